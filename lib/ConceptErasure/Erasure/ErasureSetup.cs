// ErasureSetup.cs — the frame every erasure method of this folder shares, as ESD (Gandikota et al., ICCV 2023)
// set it up and Adversarial Preservation (Bui et al., NeurIPS 2024) kept it:
//   • two copies of the foundation UNet: θ, frozen (the reference every target is computed with), and θ′, of which
//     only one parameter group trains (xattn = ESD-x, noxattn = ESD-u, full);
//   • each iteration draws an erased concept c_e, a DDIM cell t_enc ~ U{0 … N−1}, a DDPM timestep t inside that cell
//     and a start noise z_T, all from one seeded generator;
//   • z_t is not a noised training image (erasure has no data): it is sampled by DDIM with guidance from z_T under
//     the prompt c_e, by θ′ as ESD does (or by θ), and stopped where its noise level is t's;
//   • losses compare ε̂ of the two UNets at (z_t, t) — as ε̂ whatever the network predicts (a v-prediction output is
//     converted by NoiseSchedule.Epsilon), and optionally as x̂₀ = (z_t − √(1−ᾱ_t) ε̂)/√ᾱ_t like the official code.
// The methods subclass ErasureMethod and write their own iteration; Eraser.cs runs the loop.
using ConceptErasure.Models;
using ConceptErasure.Pipelines;
using ConceptErasure.Schedulers;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Erasure;

/// <summary>Which UNet parameters θ′ trains, by diffusers name (the roles match Stable Diffusion's).</summary>
public static class ParameterGroups
{
    /// <summary>True when the parameter of this dotted name trains in the group:
    /// xattn — every cross-attention layer (`.attn2.`), ESD-x;
    /// noxattn — everything but cross-attention, the time embedding and the output layer, ESD-u. The official code
    ///   skips names starting with `out.` in CompVis naming, which is the output GroupNorm and convolution together
    ///   (`conv_norm_out`, `conv_out` here), and `time_embed` (`time_embedding`; the resnets' `time_emb_proj` train);
    /// full — every parameter.</summary>
    public static bool Includes(string group, string name) => group switch
    {
        ErasureConfig.Groups.CrossAttention => name.Contains(".attn2."),
        ErasureConfig.Groups.NoCrossAttention => !(name.Contains(".attn2.") || name.StartsWith("time_embedding.")
                                                   || name.StartsWith("conv_out.") || name.StartsWith("conv_norm_out.")),
        ErasureConfig.Groups.Full => true,
        _ => throw new ArgumentException($"unknown parameter group '{group}' ({string.Join(", ", ErasureConfig.Groups.All)})"),
    };

    public static List<(string name, Parameter parameter)> Select(nn.Module unet, string group) =>
        unet.named_parameters().Where(p => Includes(group, p.name)).ToList();
}

/// <summary>The random draw of one iteration: which erased concept, which DDIM cell t_enc, which DDPM timestep t
/// in it, and the start noise z_T (1, C, h, w) that z_t (and the adversarial z_a) are sampled from.</summary>
public sealed record ErasureDraw(int Concept, int TEnc, int T, Tensor Noise);

/// <summary>One row of a run's history: one update, of θ′ (phase "theta") or of the adversary (phase "pi" for the
/// Gumbel logits, "pgd" for the continuous embedding).</summary>
/// <param name="Step">θ′ update this row belongs to (1-based); adversary rows carry the update they follow</param>
/// <param name="L1">erasure loss (theta rows)</param>
/// <param name="L2">preservation loss ‖ε_θ′(c) − ε_θ(c)‖² of the preserved/adversarial concept, or ‖θ′ − θ‖²</param>
/// <param name="Loss">the objective this update optimised: L1 + λ·L2 for θ′, L2 (maximised) for the adversary</param>
/// <param name="Applied">false when the loss was not finite and the update was skipped</param>
public sealed record ErasureStep(int Step, string Phase, string Concept, int TEnc, int T, double? L1, double? L2, double Loss, bool Applied)
{
    public string? Candidate { get; init; }        // c_a of this update (Gumbel sample), as a vocabulary word
    public string? TopCandidate { get; init; }     // argmax π of this concept after the update
    public double? TopProbability { get; init; }   // softmax(π) of TopCandidate
    public double? Drift { get; init; }            // PGD: ‖c_a − τ(c_e)‖ / ‖τ(c_e)‖ after the update
    public double Seconds { get; init; }           // wall time since the run started

    public bool Finite => double.IsFinite(Loss) && (L1 is null || double.IsFinite(L1.Value)) && (L2 is null || double.IsFinite(L2.Value));
}

/// <summary>θ, θ′, the optimiser and the shared pieces of an iteration. Subclasses implement <see cref="Step"/>.</summary>
public abstract partial class ErasureMethod : IDisposable
{
    public const string ThetaPhase = "theta";

    public FoundationModel Model { get; }
    public ErasureConfig Config { get; }
    public StableDiffusionPipeline Pipeline { get; }
    /// <summary>θ: a frozen copy of the foundation UNet (requires_grad false everywhere).</summary>
    public UNet2DConditionModel Frozen { get; }
    /// <summary>θ′: the copy being erased; only <see cref="TrainedParameters"/> require grad.</summary>
    public UNet2DConditionModel Trainable { get; }
    public IReadOnlyList<(string name, Parameter parameter)> TrainedParameters { get; }
    protected Adam Optimizer { get; }
    /// <summary>The run's one random source (concepts, t_enc, t, noise, Gumbel noise).</summary>
    protected Generator Generator { get; }
    protected NoiseSchedule Schedule => Model.Schedule;
    protected double Lambda => Config.EffectiveLambda;
    readonly SamplingOptions sampling;

    protected ErasureMethod(FoundationModel model, ErasureConfig config)
    {
        (Model, Config) = (model, config);
        Pipeline = new StableDiffusionPipeline(model);
        sampling = new SamplingOptions { steps = config.ddim_steps, guidance_scale = config.guidance, eta = 0 };
        // 1. θ: frozen copy
        Frozen = model.Unet.Clone();
        Frozen.Freeze();
        Frozen.eval();
        // 2. θ′: trainable copy, only the chosen group requires grad
        Trainable = model.Unet.Clone();
        Trainable.Freeze();
        Trainable.eval();
        TrainedParameters = ParameterGroups.Select(Trainable, config.parameters);
        foreach (var (_, p) in TrainedParameters) p.requires_grad = true;
        if (TrainedParameters.Count == 0) throw new InvalidOperationException($"the UNet has no parameter in group '{config.parameters}'");
        // 3. Adam on θ′'s group, batch 1, as ESD and AP
        Optimizer = optim.Adam(TrainedParameters.Select(p => p.parameter), lr: config.lr);
        Generator = Rng.Create(config.seed);
    }

    /// <summary>One iteration: one θ′ update (and, for the adversarial methods, the adversary's updates that follow
    /// it). Returns the rows for the history; a row with a non-finite loss was not applied.</summary>
    public abstract IReadOnlyList<ErasureStep> Step(int step);

    /// <summary>Work a step deferred to share it with the next step (AP's ascents, batch_ascent), done now: run by the
    /// loop before a checkpoint and after the last step. Returns its rows for the history.</summary>
    public virtual IReadOnlyList<ErasureStep> Flush() => [];

    /// <summary>θ′ updates the run makes: the config's iterations (1 for a closed-form edit such as UCE).</summary>
    public virtual int Updates => Config.iterations;

    /// <summary>Facts of the method for the manifest (candidate sets, final adversary…); none by default.</summary>
    public virtual System.Text.Json.Nodes.JsonObject? Describe() => null;

    // ---- 0. where the time goes ----------------------------------------------------------------------------------
    /// <summary>The sections an iteration's wall time is split into (the manifest's timing.split).</summary>
    public static class Sections
    {
        public const string Sampling = "sampling_zt",        // guided DDIM from z_T down to t_enc, no gradient
            Update = "backward_and_step",                      // θ′: backward of the loss and the Adam step
            Adversary = "adversary",                           // the adversary's ascent (its own sampling included)
            Losses = "forward_losses";                         // the rest: forward passes of the loss terms, the draw
    }
    readonly Dictionary<string, double> seconds = new();
    /// <summary>Seconds spent so far in each measured section (sampling, update, adversary); nested sections count in
    /// the innermost only, so the sections add up to at most the loop's wall time.</summary>
    public IReadOnlyDictionary<string, double> SectionSeconds => seconds;

    sealed class SectionTimer(ErasureMethod owner, string section) : IDisposable
    {
        readonly System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();
        readonly SectionTimer? outer = owner.current;
        public void Dispose()
        {
            var s = clock.Elapsed.TotalSeconds;
            owner.seconds[section] = owner.seconds.GetValueOrDefault(section) + s;
            if (outer is not null) owner.seconds[outer.Section] = owner.seconds.GetValueOrDefault(outer.Section) - s;
            owner.current = outer;
        }
        public string Section => section;
    }
    SectionTimer? current;
    /// <summary>Times a section until disposed: <c>using var _ = Time(Sections.Sampling);</c></summary>
    protected IDisposable Time(string section) => current = new SectionTimer(this, section);

    // ---- 1. the draw ------------------------------------------------------------------------------------------
    int RandInt(int n) => (int)Rng.Int(n, Generator);

    /// <summary>The DDPM timesteps one DDIM cell spans (20 for 50 steps over 1000).</summary>
    public int CellWidth => Schedule.TrainSteps / Config.ddim_steps;

    /// <summary>c_e ~ U(erase), t_enc ~ U{0 … N−1}, t ~ U[w·t_enc, w·(t_enc+1)) with w = T/N (= ⌊1000·t_enc/N⌋ … for
    /// N dividing 1000), z_T ~ N(0, I) — a fresh z_T every <c>zt_reuse</c> draws, the current one otherwise. The draw's
    /// noise is a copy owned by the caller's dispose scope.</summary>
    public ErasureDraw Draw()
    {
        var concept = RandInt(Config.erase.Count);
        var tEnc = RandInt(Config.ddim_steps);
        var t = CellWidth * tEnc + RandInt(CellWidth);
        if (startNoise is null || drawsOnNoise >= Config.zt_reuse)
        {
            startNoise?.Dispose();
            using (var scope = NewDisposeScope())
                startNoise = Pipeline.InitialNoise(1, Generator).DetachFromDisposeScope();       // (1, C, h, w)
            startNoiseKey = ValueKey(startNoise);
            drawsOnNoise = 0;
        }
        drawsOnNoise++;
        return new ErasureDraw(concept, tEnc, t, startNoise.clone());
    }

    Tensor? startNoise;
    string? startNoiseKey;
    int drawsOnNoise;
    /// <summary>Trajectories sampled since the current z_T was drawn, by (start noise, prompt): element k holds the
    /// latents after k DDIM steps (element 0 is the start noise itself).</summary>
    readonly Dictionary<string, List<Tensor>> trajectories = new();

    void ClearTrajectories()
    {
        foreach (var levels in trajectories.Values)
            foreach (var z in levels) z.Dispose();
        trajectories.Clear();
    }

    /// <summary>Drops the trajectories of earlier start noises. Run after sampling rather than when a new z_T is drawn,
    /// so that a draw made before it (sampled in the same batch as a later draw) still continues its own trajectories.</summary>
    void DropOldTrajectories()
    {
        if (startNoiseKey is null) return;                                                     // no draw made yet (draws made by hand)
        foreach (var key in trajectories.Keys.Where(k => !k.StartsWith(startNoiseKey, StringComparison.Ordinal)).ToList())
        {
            foreach (var z in trajectories[key]) z.Dispose();
            trajectories.Remove(key);
        }
    }

    /// <summary>A key for a tensor's values (a start noise, a context row): a hash of its float32 bytes.</summary>
    static string ValueKey(Tensor row)
    {
        var values = row.data<float>().ToArray();
        var bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(bytes));
    }

    // ---- 2. z_t -----------------------------------------------------------------------------------------------
    /// <summary>The UNet that samples z_t: θ′ (ESD's choice, kept by AP) or θ.</summary>
    public UNet2DConditionModel SamplerUnet => Config.sampler == ErasureConfig.Samplers.Frozen ? Frozen : Trainable;

    /// <summary>DDIM steps run from z_T so that the latents sit at grid timestep w·t_enc + 1, inside t's cell: the
    /// grid (leading spacing, offset 1) is 981, 961, …, 1 for N = 50, so N − 1 − t_enc steps. (The official sampler
    /// stops two cells later, an off-by-two of its loop; here z_t's noise level and t agree.)</summary>
    public int DenoiseSteps(int tEnc) => Config.ddim_steps - 1 - tEnc;

    /// <summary>z_t for each context row: guided DDIM (scale <c>guidance</c>, unconditional "", η = 0) from the draw's
    /// start noise, without gradient. contexts (B, S, D) → (B, C, h, w); every row shares z_T.</summary>
    public Tensor SampleLatents(ErasureDraw draw, Tensor contexts)
    {
        using var scope = NewDisposeScope();
        var B = (int)contexts.size(0);
        var rows = Enumerable.Range(0, B).Select(b => (draw, contexts.narrow(0, b, 1))).ToList();
        return torch.cat(SampleLatents(rows).ToArray()).MoveToOuterDisposeScope();             // (B, C, h, w)
    }

    /// <summary>z_t of several (draw, context (1, S, D)) rows, each from its own draw's start noise down to its own
    /// t_enc, in as few UNet calls as possible: a row whose prompt was already sampled under the same z_T continues
    /// that trajectory (or reads it, when it is deep enough), and rows that stand at the same DDIM step advance
    /// together in one batch — the batch changes how many rows one call carries, not what any row computes.
    /// Returns (1, C, h, w) per row, owned by the caller's dispose scope.</summary>
    public IReadOnlyList<Tensor> SampleLatents(IReadOnlyList<(ErasureDraw draw, Tensor context)> rows)
    {
        using var timer = Time(Sections.Sampling);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var B = rows.Count;
        // 1. one trajectory per row (rows with the same start noise and prompt share it)
        var paths = new List<Tensor>[B];
        var rowContext = new Tensor[B];
        var depth = rows.Select(r => DenoiseSteps(r.draw.TEnc)).ToArray();
        for (var b = 0; b < B; b++)
        {
            rowContext[b] = rows[b].context.detach();                                          // (1, S, D)
            var key = ValueKey(rows[b].draw.Noise) + ValueKey(rowContext[b]);
            if (!trajectories.TryGetValue(key, out var path))
                trajectories[key] = path = [rows[b].draw.Noise.clone().DetachFromDisposeScope()];
            paths[b] = path;
        }
        // 2. advance the shallowest trajectories one step at a time until every row is at its depth
        var uncond = Context("");                                                              // (1, S, D)
        while (true)
        {
            var behind = Enumerable.Range(0, B).Where(b => paths[b].Count - 1 < depth[b]).GroupBy(b => paths[b]).Select(g => g.First()).ToList();
            if (behind.Count == 0) break;
            var level = behind.Min(b => paths[b].Count - 1);
            var batch = behind.Where(b => paths[b].Count - 1 == level).ToList();
            using var stepScope = NewDisposeScope();
            var z = torch.cat(batch.Select(b => paths[b][level]).ToArray());                 // (b, C, h, w)
            var c = torch.cat(batch.Select(b => rowContext[b]).ToArray());                    // (b, S, D)
            var u = uncond.expand(batch.Count, -1, -1).contiguous();                          // (b, S, D)
            var next = Pipeline.Denoise(SamplerUnet, z, c, u, sampling, level, level + 1).chunk(batch.Count);
            for (var i = 0; i < batch.Count; i++) paths[batch[i]].Add(next[i].clone().DetachFromDisposeScope());
        }
        // 3. the latents at each row's depth; trajectories of an earlier z_T are no longer needed
        var result = Enumerable.Range(0, B).Select(b => paths[b][depth[b]].clone().MoveToOuterDisposeScope()).ToList();
        DropOldTrajectories();
        return result;
    }

    // ---- 3. ε̂ and the loss space ------------------------------------------------------------------------------
    /// <summary>τ(prompt), (1, S, D), from the frozen text encoder (cached by the prompt encoder).</summary>
    public Tensor Context(string prompt) => Model.Prompts.Encode(prompt);

    /// <summary>ε̂ of a UNet at (z, t) for each context row: (B, C, h, w). v-predictions are converted to ε̂.</summary>
    public Tensor Epsilon(UNet2DConditionModel unet, Tensor z, int t, Tensor contexts)
    {
        using var scope = NewDisposeScope();
        var ts = torch.full([z.size(0)], t, ScalarType.Int64, z.device);
        return Pipeline.Epsilon(unet, z, ts, contexts).MoveToOuterDisposeScope();
    }

    /// <summary>‖a − b‖² between two ε̂ at the same (z, t), as the mean over elements (MSELoss, as in the code):
    /// in ε-space, or in x₀-space ‖x̂₀(a) − x̂₀(b)‖² with x̂₀(ε) = (z − √(1−ᾱ_t) ε)/√ᾱ_t. The x₀ form is computed
    /// as (1 − ᾱ_t)/ᾱ_t · ‖a − b‖², which is the same number without subtracting two x̂₀ that share z (in float32
    /// that subtraction loses about four digits when a ≈ b).</summary>
    public Tensor Distance(Tensor z, int t, Tensor a, Tensor b)
    {
        if (Config.loss_space == ErasureConfig.Spaces.Epsilon) return nn.functional.mse_loss(a, b);
        var alpha = Schedule.AlphasCumprod[t];
        using var mse = nn.functional.mse_loss(a, b);
        return mse * ((1 - alpha) / alpha);                                                 // ‖x̂₀(a) − x̂₀(b)‖²
    }

    // ---- 4. the erasure loss L1 -------------------------------------------------------------------------------
    /// <summary>The erasure target at (z_t, t) from θ, without gradient (ESD's negative guidance):
    ///   ε* = ε_θ(z_t, c_n) − η (ε_θ(z_t, c_e) − ε_θ(z_t, c_n));   η = 0 gives the paper's ε_θ(z_t, c_n).</summary>
    public Tensor ErasureTarget(Tensor zt, int t, string concept)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var eta = Config.EffectiveEta;
        var target = Config.TargetOf(concept);                                              // c_n: "" unless the run gives each concept its own
        if (eta == 0) return Epsilon(Frozen, zt, t, Context(target)).MoveToOuterDisposeScope();
        var e = Epsilon(Frozen, torch.cat([zt, zt]), t, torch.cat([Context(target), Context(concept)])).chunk(2);
        var (eN, eE) = (e[0], e[1]);                                                        // (1, C, h, w) each
        return (eN - (eE - eN) * eta).MoveToOuterDisposeScope();
    }

    /// <summary>L1 = ‖ε_θ′(z_t, c_e) − ε*‖² (with gradient into θ′).</summary>
    public Tensor ErasureLoss(Tensor zt, int t, string concept)
    {
        using var scope = NewDisposeScope();
        var target = ErasureTarget(zt, t, concept);
        var eps = Epsilon(Trainable, zt, t, Context(concept));
        return Distance(zt, t, eps, target).MoveToOuterDisposeScope();
    }

    /// <summary>‖ε_θ′(z, c) − ε_θ(z, c)‖² for each context row (mean over rows and elements). The frozen branch is
    /// differentiable in c only when <paramref name="frozenGradient"/> (the adversary's ascent).</summary>
    public Tensor PreservationLoss(Tensor z, int t, Tensor contexts, bool frozenGradient = false)
    {
        using var scope = NewDisposeScope();
        Tensor reference;
        if (frozenGradient) reference = Epsilon(Frozen, z, t, contexts);
        else using (no_grad()) reference = Epsilon(Frozen, z, t, contexts.detach());
        var eps = Epsilon(Trainable, z, t, contexts);
        return Distance(z, t, eps, reference).MoveToOuterDisposeScope();
    }

    // ---- 5. the update ----------------------------------------------------------------------------------------
    /// <summary>One Adam step of θ′ on the loss, unless its value is not finite (then nothing changes).</summary>
    protected bool UpdateTrainable(Tensor loss, double value)
    {
        if (!double.IsFinite(value)) return false;
        using var timer = Time(Sections.Update);
        Optimizer.zero_grad();
        loss.backward();
        Optimizer.step();
        Optimizer.zero_grad();
        return true;
    }

    /// <summary>A theta row from the values of one update.</summary>
    protected ErasureStep ThetaRow(int step, ErasureDraw d, double l1, double? l2, double loss, bool applied) =>
        new(step, ThetaPhase, Config.erase[d.Concept], d.TEnc, d.T, l1, l2, loss, applied);

    /// <summary>Copies of the trained group's tensors (θ′ restricted to the group), owned by the caller.</summary>
    public Dictionary<string, Tensor> TrainedState()
    {
        using var _ = no_grad();
        return TrainedParameters.ToDictionary(p => p.name, p => p.parameter.detach().clone().DetachFromDisposeScope());
    }

    public virtual void Dispose()
    {
        ClearTrajectories();
        startNoise?.Dispose();
        Optimizer.Dispose();
        Generator.Dispose();
        Frozen.Dispose();
        Trainable.Dispose();
        GC.SuppressFinalize(this);
    }
}
