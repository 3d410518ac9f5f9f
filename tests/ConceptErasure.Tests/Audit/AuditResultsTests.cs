// AuditResults' summaries (Audit/AuditResults.cs) on hand-made audits: per-ψ curves skip unscored prompts, the change
// between two grid points is computed prompt by prompt, paired differences match prompts by concept and skip prompts
// either run left unscored, and a ψ outside the grid is refused.
using ConceptErasure.Audit;

namespace ConceptErasure.Tests.Audit;

public class AuditResultsTests
{
    const double Tol = 1e-12;
    static readonly ConcealmentAuditOptions Options = new() { attack = new PartialDiffusionOptions { psi = [0, 0.05, 0.15, 1] } };

    static PromptAudit Prompt(string concept, PromptRole role, double[] p, double? ccs)
    {
        var points = Options.attack.psi.Select((psi, i) => new PsiPoint(psi, psi, (int)(psi * 25), psi is > 0 and < 1, 0, 0, p[i], 0, p[i] / 2, p[i])).ToList();
        return new PromptAudit(concept, $"an emoji of {concept}", role, new ClassifierFit(52, 12, 1, ccs is null ? 0.5 : 1, ccs is not null), points, ccs, ccs, 1, 0, 1);
    }

    static AuditedRun RunOf(string name, params PromptAudit[] prompts) => new(name, "erase run", "esd", "xattn", prompts, Options);

    [Fact]
    public void Curve_and_change_are_per_prompt_summaries()
    {
        var run = RunOf("esd",
            Prompt("fish", PromptRole.Forget, [0, 0.1, 0.5, 1], 0.3),
            Prompt("dog", PromptRole.Forget, [0, 0.0, 0.2, 1], 0.1),
            Prompt("trumpet", PromptRole.Forget, [double.NaN, double.NaN, double.NaN, double.NaN], null),
            Prompt("church", PromptRole.Retain, [0.5, 0.5, 0.5, 0.5], 0.5));
        var curve = run.Curve(PromptRole.Forget, p => p.POriginal);
        Assert.Equal(2, curve[2].value!.N);                      // the unscored prompt is left out
        Assert.Equal((0.5 + 0.2) / 2, curve[2].value!.Mean, Tol);
        var jump = run.Change(PromptRole.Forget, 0.05, 0.15, p => p.POriginal)!;
        Assert.Equal(2, jump.N);
        Assert.Equal(((0.5 - 0.1) + (0.2 - 0.0)) / 2, jump.Mean, Tol);
        Assert.InRange(jump.Mean, jump.Low95, jump.High95);
        Assert.Equal(0.0, run.Change(PromptRole.Retain, 0.05, 0.15, p => p.POriginal)!.Mean, Tol);
        Assert.Throws<ArgumentException>(() => run.Change(PromptRole.Forget, 0.1, 0.15, p => p.POriginal));
    }

    [Fact]
    public void Paired_difference_matches_concepts_and_skips_unscored_prompts()
    {
        var a = RunOf("ap",
            Prompt("fish", PromptRole.Forget, [0, 0, 0, 1], 0.6),
            Prompt("dog", PromptRole.Forget, [0, 0, 0, 1], 0.1),
            Prompt("church", PromptRole.Forget, [0, 0, 0, 1], 0.9));
        var b = RunOf("esd",
            Prompt("dog", PromptRole.Forget, [0, 0, 0, 1], 0.3),     // other order: matched by concept
            Prompt("fish", PromptRole.Forget, [0, 0, 0, 1], 0.5),
            Prompt("church", PromptRole.Forget, [double.NaN, double.NaN, double.NaN, double.NaN], null));
        var d = a.PairedDifference(b, PromptRole.Forget, p => p.Ccs)!;
        Assert.Equal(2, d.N);
        Assert.Equal(((0.6 - 0.5) + (0.1 - 0.3)) / 2, d.Mean, Tol);
        Assert.Null(a.PairedDifference(b, PromptRole.Retain, p => p.Ccs));
    }
}
