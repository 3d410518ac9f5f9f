// `workbook train unet` bad input: a recipe option out of range is one clear message, exit code 1, and nothing is
// written (the run folder is not created).
using System.CommandLine;
using ConceptErasure.Cli;
using ConceptErasure.Cli.Commands;
using ConceptErasure.Tests.Erasure;

namespace ConceptErasure.Tests.Cli;

[Collection("global torch state")]   // redirects the console
public class TrainCommandTests
{
    static (int code, string stderr) Run(params string[] args)
    {
        var (code, _, stderr) = CliTestSupport.Run([TrainCommand.Create()], args);
        return (code, stderr);
    }

    [Theory]
    [InlineData("--style-captions", "1.5")]
    [InlineData("--style-captions", "-0.5")]
    [InlineData("--warmup", "-3")]
    [InlineData("--lr", "-1")]
    public void OutOfRangeRecipeOptionsAreRefusedBeforeAnyWork(string option, string value)
    {
        var dir = Directory.CreateTempSubdirectory("ce-train");
        try
        {
            var modelDir = Path.Combine(dir.FullName, "model");
            using (var model = TinyModel.Create()) model.Save(modelDir);
            var run = Path.Combine(dir.FullName, "run");
            var (code, stderr) = Run("train", "unet", "--init", modelDir, option, value, "--steps", "1", "--out", run);
            Assert.Equal(1, code);
            Assert.Contains(option, stderr);
            Assert.False(Directory.Exists(run));
        }
        finally { dir.Delete(true); }
    }
}
