// The image measures of Fig. 4 (Evaluation/ImageMeasures.cs) on hand-drawn images: white has no ink; a red square on
// white has red as its colour and ink only where it is drawn; an image correlates 1 with itself, −1 with its negative
// ink pattern, and a blank image has no defined correlation; the judge's entropy equals −Σ p log p of its own softmax.
using ConceptErasure.Evaluation;
using ConceptErasure.Engine;
using ConceptErasure.Tests.Audit;
using TorchSharp;
using static TorchSharp.torch;

namespace ConceptErasure.Tests.Evaluation;

[Collection("global torch state")]
public class ImageMeasuresTests
{
    /// <summary>(1, 3, 8, 8) white image with a square of colour rgb (in [0, 1]) at rows/cols [from, to).</summary>
    static Tensor Square(float[] rgb, int from, int to)
    {
        var x = torch.ones(1, 3, 8, 8);
        for (var c = 0; c < 3; c++) x[0, c, TensorIndex.Slice(from, to), TensorIndex.Slice(from, to)] = torch.tensor(rgb[c] * 2 - 1);
        return x;
    }

    [Fact]
    public void Ink_colour_and_shape_on_hand_drawn_images()
    {
        using var scope = NewDisposeScope();
        var white = torch.ones(1, 3, 8, 8);
        var red = Square([1, 0, 0], 2, 6);                      // 16 of 64 pixels, gray = (1 − 1 − 1)/3 = −1/3 → ink 2/3
        Assert.Equal(0.0, ImageMeasures.InkShare(white)[0], 12);
        Assert.Equal(16.0 / 64 * (2.0 / 3), ImageMeasures.InkShare(red)[0], 6);
        var colour = ImageMeasures.Colour(torch.cat([red, white]));
        Assert.Equal([1.0, 0.0, 0.0], colour[0].Select(v => Math.Round(v, 6)));
        Assert.Equal([1.0, 1.0, 1.0], colour[1]);                // no ink: white by definition
        Assert.Equal(Math.Sqrt(2), ImageMeasures.ColourDistance(colour[0], colour[1]), 6);
        var blue = Square([0, 0, 1], 2, 6);                      // same shape, other colour
        var moved = Square([1, 0, 0], 0, 2);                     // same colour, elsewhere
        var r = ImageMeasures.ShapeCorrelation(torch.cat([red, blue, moved, white]), torch.cat([red, red, red, red]));
        Assert.Equal(1.0, r[0], 6);
        Assert.Equal(1.0, r[1], 6);
        Assert.True(r[2] < 0, $"disjoint squares correlate negatively, got {r[2]}");
        Assert.True(double.IsNaN(r[3]));
        Assert.Throws<ArgumentException>(() => ImageMeasures.ShapeCorrelation(red, torch.cat([red, red])));
    }

    [Fact]
    public void Judge_entropy_is_that_of_its_softmax()
    {
        using var scope = NewDisposeScope();
        using var judge = ConcealmentAuditTests.TinyJudge();
        using var g = ConceptErasure.Engine.Rng.Create(4);
        var images = ConceptErasure.Engine.Rng.randn([3, 3, 4, 4], g).clamp(-1, 1);
        var read = ImageMeasures.Read(judge, images);
        using var _ = no_grad();
        var p = judge.forward(images).concepts.to(ScalarType.Float64).softmax(1);
        for (var k = 0; k < 3; k++)
        {
            var pk = p[k].ToDoubles();
            Assert.Equal(-pk.Sum(v => v > 0 ? v * Math.Log(v) : 0), read[k].Entropy, 9);
            Assert.Equal(pk.Max(), read[k].Probability, 9);
            Assert.Equal(judge.config.concepts[Array.IndexOf(pk, pk.Max())], read[k].Label);
            Assert.InRange(read[k].Entropy, 0, Math.Log(pk.Length) + 1e-9);
        }
    }
}
