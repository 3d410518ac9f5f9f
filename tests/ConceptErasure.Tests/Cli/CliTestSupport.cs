// Runs `workbook` commands in-process for the CLI tests: a root with the given commands, the unknown-option check,
// and the console captured (tests that use it share the "global torch state" collection, which is not parallel).
using System.CommandLine;
using ConceptErasure.Cli;

namespace ConceptErasure.Tests.Cli;

internal static class CliTestSupport
{
    public static (int code, string stdout, string stderr) Run(IEnumerable<Command> commands, string[] args)
    {
        var root = new RootCommand();
        foreach (var c in commands) root.Subcommands.Add(c);
        CommandSupport.RejectUnknownOptions(root);
        var (o, e) = (Console.Out, Console.Error);
        var (so, se) = (new StringWriter(), new StringWriter());
        Console.SetOut(so); Console.SetError(se);
        try { return (root.Parse(args).Invoke(), so.ToString(), se.ToString()); }
        finally { Console.SetOut(o); Console.SetError(e); }
    }

    /// <summary>Bad input is one clear message: exit code 1, <paramref name="expected"/> on stderr, and nothing written
    /// to <paramref name="outDir"/>.</summary>
    public static void AssertRefused(Func<string[], (int code, string stdout, string stderr)> run, string outDir, string expected, string[] args)
    {
        var (code, stdout, stderr) = run(args);
        Assert.True(code == 1, $"exit {code}: {stderr}{stdout}");
        Assert.Contains(expected, stderr);
        Assert.False(Directory.Exists(outDir), "nothing may be written");
    }
}
