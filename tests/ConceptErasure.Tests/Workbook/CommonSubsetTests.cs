// The common subset: Polyglot-only constructs are rejected with the cell number and line; plain C# with a
// relative #r to one DLL passes.
using ConceptErasure.Workbook;

namespace ConceptErasure.Tests.Workbook;

public class CommonSubsetTests
{
    private static IReadOnlyList<SubsetViolation> Check(params string[] codeCells)
    {
        var b = new NotebookBuilder().Markdown("# t");
        foreach (var c in codeCells) b.Code(c);
        return CommonSubset.Check(b.Build());
    }

    [Fact]
    public void Plain_csharp_with_one_relative_reference_passes()
    {
        Assert.Empty(Check("#r \"../lib/ConceptErasure.dll\"\nusing ConceptErasure.Workbook;", "var x = 1;\n// #!not a magic, a comment\nx", "#r \"../lib/ConceptErasure.dll\""));
    }

    [Fact]
    public void Magic_commands_are_rejected_with_cell_and_line()
    {
        var v = Assert.Single(Check("var x = 1;", "var y = 2;\n#!time\ny"));
        Assert.Equal((3, 2), (v.Cell, v.Line));
        Assert.Contains("#!time", v.Message);
    }

    [Fact]
    public void Nuget_references_are_rejected()
    {
        var v = Assert.Single(Check("#r \"nuget: TorchSharp, 0.105.0\""));
        Assert.Contains("NuGet", v.Message);
    }

    [Theory]
    [InlineData("#r \"/opt/lib/ConceptErasure.dll\"", "absolute")]
    [InlineData("#r \"../lib/ConceptErasure.csproj\"", ".dll")]
    [InlineData("#r ConceptErasure.dll", "#r \"<path")]
    [InlineData("#i \"nuget: https://example.invalid/feed\"", "#i")]
    [InlineData("#load \"helpers.csx\"", "#load")]
    [InlineData("using Microsoft.DotNet.Interactive;", ".NET Interactive")]
    public void Other_polyglot_only_constructs_are_rejected(string line, string expected)
    {
        var v = Assert.Single(Check(line));
        Assert.Contains(expected, v.Message);
    }

    [Fact]
    public void A_second_dll_is_rejected()
    {
        var v = Assert.Single(Check("#r \"../lib/ConceptErasure.dll\"", "#r \"../lib/Other.dll\""));
        Assert.Equal(3, v.Cell);
        Assert.Contains("second DLL", v.Message);
    }
}
