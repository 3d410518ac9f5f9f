// The validation split that chooses checkpoints and the guidance scale must never touch the gate: its concepts
// lie outside Emojinette, the spectrum list and the gate's random sample, and it is the same list every time.
using ConceptErasure.Data;
using ConceptErasure.Evaluation;

namespace ConceptErasure.Tests.Evaluation;

[Collection("global torch state")]
public class QualityGateTests
{
    [Fact]
    public void ValidationConceptsAreDisjointFromEveryGateGroupAndFixed()
    {
        using var judge = ConceptJudge.Load();
        var o = new QualityGateOptions();
        var gate = QualityGate.GateConcepts(judge, o);
        Assert.True(gate.Count >= o.random_concepts, $"the gate holds {gate.Count} concepts");
        Assert.Superset(ConceptSets.Load(ConceptSets.Emojinette).ConceptNames.ToHashSet(), gate);
        Assert.Superset(ConceptSets.Load(ConceptSets.Spectrum).ConceptNames.ToHashSet(), gate);

        var validation = QualityGate.ValidationConcepts(judge, o, 60);
        Assert.Equal(60, validation.Distinct().Count());
        Assert.DoesNotContain(validation, gate.Contains);
        Assert.Equal(validation, QualityGate.ValidationConcepts(judge, o, 60));
        Assert.Throws<ArgumentException>(() => QualityGate.ValidationConcepts(judge, o, judge.config.concepts.Length));
    }
}
