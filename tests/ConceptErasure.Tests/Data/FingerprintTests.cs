// Fingerprints name the exact weights behind a result: equal files agree, one changed byte changes the print.
using ConceptErasure.Data;

namespace ConceptErasure.Tests.Data;

public class FingerprintTests
{
    [Fact]
    public void OneChangedByteChangesTheFingerprintAndOtherFilesKeepTheirs()
    {
        var dir = Directory.CreateTempSubdirectory("ce-fp").FullName;
        File.WriteAllBytes(Path.Combine(dir, "a.safetensors"), [1, 2, 3, 4]);
        File.WriteAllBytes(Path.Combine(dir, "b.safetensors"), [9, 9]);
        File.WriteAllText(Path.Combine(dir, "notes.md"), "not weights");
        var before = Fingerprint.Of(dir);
        Assert.Equal(["a.safetensors", "b.safetensors"], before.Keys);
        Assert.Equal("9f64a747e1b97f13", before["a.safetensors"]);   // sha256(01 02 03 04) = 9f64a747e1b97f131fabb6b447296c9b…
        File.WriteAllBytes(Path.Combine(dir, "a.safetensors"), [1, 2, 3, 5]);
        var after = Fingerprint.Of(dir);
        Assert.NotEqual(before["a.safetensors"], after["a.safetensors"]);
        Assert.Equal(before["b.safetensors"], after["b.safetensors"]);
    }

    [Fact]
    public void AFolderWithoutWeightsIsAnError()
    {
        var dir = Directory.CreateTempSubdirectory("ce-fp").FullName;
        Assert.Throws<InvalidDataException>(() => Fingerprint.Of(dir));
        Assert.Throws<DirectoryNotFoundException>(() => Fingerprint.Of(Path.Combine(dir, "missing")));
    }
}
