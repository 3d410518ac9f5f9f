// The Table-1 summary: rows survive the CSV round trip (quoted variant names included) and each cell is the mean
// and sample std over a variant's runs, in percent.
using ConceptErasure.Evaluation;

namespace ConceptErasure.Tests.Evaluation;

public class ErasureTableTests
{
    [Fact]
    public void SummaryIsMeanAndStdOverRunsInPercent()
    {
        var rows = new List<ErasureTableRow>
        {
            new("preserve-\"\"", "a", 0, 0.50, 0.20, 0.60, 0.90, 10, 1, 1, 100, "Completed"),
            new("preserve-\"\"", "b", 0, 0.70, 0.40, 0.80, 1.00, 10, 3, 1, 100, "Completed"),
            new("ESD-x", "a", 1, 0.10, 0.00, 0.30, 0.50, 10, 1, 1, 100, "Cancelled"),
        };
        var md = ErasureTable.Markdown(rows);
        Assert.Contains("| preserve-\"\" | 2 | 60.0 ± 14.1", md);   // mean 60 %, std √((10² + 10²)/1) = 14.1
        Assert.DoesNotContain("ESD-x", md);                        // only completed runs count
    }

    [Fact]
    public void DifferencesArePairedBySplitAndSeed()
    {
        var rows = new List<ErasureTableRow>
        {
            new("ESD-x", "a", 0, 0.50, 0.20, 0.60, 0.90, 10, 1, 1, 100, "Completed"),
            new("ESD-x", "b", 0, 0.90, 0.40, 0.20, 0.50, 10, 1, 1, 100, "Completed"),
            new("AP", "b", 0, 0.80, 0.40, 0.30, 0.50, 10, 1, 1, 100, "Completed"),   // −10 / 0 / +10 / 0 against b
            new("AP", "a", 0, 0.40, 0.20, 0.70, 0.90, 10, 1, 1, 100, "Completed"),   // −10 / 0 / +10 / 0 against a
        };
        var md = ErasureTable.Markdown(rows);
        Assert.Contains("Difference to ESD-x", md);
        Assert.Contains("| AP | 2 | −10.0 ± 0.0 [−10.0, −10.0] | 0.0 ± 0.0 [0.0, 0.0] | +10.0 ± 0.0 [+10.0, +10.0] |", md);
    }

    [Fact]
    public void ResumingIsRefusedWhenTheRowsWereMadeWithOtherWeightsOrConfig()
    {
        var dir = Directory.CreateTempSubdirectory("table").FullName;
        try
        {
            static string Config(string unet, int steps, int seeds, int threads) =>
                $$"""{ "common": { "iterations": 100 }, "eval": { "steps": {{steps}} }, "seeds": {{seeds}}, "threads": {{threads}}, "weights": { "foundation": { "unet.safetensors": "{{unet}}" } } }""";
            File.WriteAllText(Path.Combine(dir, "config.json"), Config("aaaa", 25, 3, 1));
            ErasureTable.CheckResumable(dir, Config("bbbb", 25, 3, 1));          // no rows yet: nothing to mix
            File.WriteAllText(Path.Combine(dir, "runs.csv"), ErasureTable.Header + "\n");
            ErasureTable.CheckResumable(dir, Config("aaaa", 25, 5, 2));          // more seeds, other threads: fine
            var e = Assert.Throws<ArgumentException>(() => ErasureTable.CheckResumable(dir, Config("bbbb", 25, 3, 1)));
            Assert.Contains("'weights'", e.Message);
            e = Assert.Throws<ArgumentException>(() => ErasureTable.CheckResumable(dir, Config("aaaa", 50, 3, 1)));
            Assert.Contains("'eval'", e.Message);
            // a setting added after the rows were made stood for its default: spelling it out changes nothing, changing it does
            ErasureTable.CheckResumable(dir, Config("aaaa", 25, 3, 1).Replace("\"iterations\": 100", "\"iterations\": 100, \"uce_ridge\": 0.1"));
            e = Assert.Throws<ArgumentException>(() => ErasureTable.CheckResumable(dir, Config("aaaa", 25, 3, 1).Replace("\"iterations\": 100", "\"iterations\": 100, \"uce_ridge\": 0.5")));
            Assert.Contains("'common'", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void RowsRoundTripThroughTheCsv()
    {
        var dir = Directory.CreateTempSubdirectory("table").FullName;
        try
        {
            var path = Path.Combine(dir, "runs.csv");
            var row = new ErasureTableRow("preserve-\"\", with comma", "first-half", 2, 0.25, 0.125, 0.5, 0.75, 300, 61.5, 20.25, 812, "Completed");
            File.WriteAllText(path, "variant,split,seed,esr1,esr5,psr1,psr5,iterations,train_seconds,eval_seconds,peak_rss_mib,status\n" +
                                    "\"preserve-\"\"\"\", with comma\",first-half,2,0.2500,0.1250,0.5000,0.7500,300,61.5,20.2,812,Completed\n");
            var back = Assert.Single(ErasureTable.Read(path));
            Assert.Equal(row.Variant, back.Variant);
            Assert.Equal(row with { EvalSeconds = 20.2 }, back);
            File.AppendAllText(path, "x,y\n");
            Assert.Throws<InvalidDataException>(() => ErasureTable.Read(path).ToList());
        }
        finally { Directory.Delete(dir, true); }
    }
}
