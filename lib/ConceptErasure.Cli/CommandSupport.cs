// CommandSupport.cs — what every `workbook` command shares: the exit codes, the one handler that turns any failure
// into one line and the right code, the preparation of an output folder before any work, bounded thread counts, and
// the Ctrl-C / SIGTERM token that stops long work after the current step.
//
// Exit codes (also in `workbook --help`):
//   0    the command did what was asked
//   1    bad input or a failure (one line on stderr names the file or option and the problem)
//   3    a training or erasure loss became NaN/inf (the run folder keeps the last good state)
//   70   an internal error (a bug: one line, WORKBOOK_TRACE=1 prints the stack)
//   130  interrupted (Ctrl-C or SIGTERM); what finished is saved
using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using ConceptErasure.Data;
using ConceptErasure.Erasure;
using ConceptErasure.Training;
using TorchSharp;

namespace ConceptErasure.Cli;

/// <summary>The process exit codes of every command.</summary>
public static class ExitCode
{
    public const int Ok = 0, Failed = 1, NonFiniteLoss = 3, Internal = 70, Interrupted = 130;

    /// <summary>The codes as `--help` lists them.</summary>
    public const string Help = "Exit codes: 0 done; 1 bad input or failure; 3 a loss became NaN/inf (the last good state is kept); " +
                               "70 internal error (WORKBOOK_TRACE=1 shows the stack); 130 interrupted (what finished is saved).";
}

/// <summary>Raised when a command stopped on Ctrl-C/SIGTERM before finishing what was asked.</summary>
public sealed class InterruptedException(string message) : Exception(message);

internal static class CommandSupport
{
    /// <summary>Runs a command body and maps every failure to one line on stderr and its exit code (see ExitCode).</summary>
    public static int Guard(Func<int> body)
    {
        try { return body(); }
        catch (Exception e) { return Report(e); }
    }

    /// <summary>A body that succeeds unless it throws.</summary>
    public static int Guard(Action body) => Guard(() => { body(); return ExitCode.Ok; });

    internal static int Report(Exception e)
    {
        switch (e)
        {
            case NonFiniteLossException:
                Console.Error.WriteLine($"workbook: {e.Message}");
                return ExitCode.NonFiniteLoss;
            case OperationCanceledException or InterruptedException:
                Console.Error.WriteLine(e is InterruptedException ? $"workbook: {e.Message}" : "workbook: stopped; what finished is saved (run the same command again to go on)");
                return ExitCode.Interrupted;
            case ArgumentException or InvalidDataException or InvalidOperationException or KeyNotFoundException
                or EmojiDataUnavailableException or UnknownWordsException or FormatException or NotSupportedException:
                Console.Error.WriteLine($"workbook: {Capped(e.Message)}");   // may list several problems, one per line
                return ExitCode.Failed;
            case UnauthorizedAccessException:
                Console.Error.WriteLine($"workbook: permission denied: {OneLine(e.Message)}");
                return ExitCode.Failed;
            case IOException:   // FileNotFound, DirectoryNotFound, PathTooLong, a symlink loop, a full disk …
                Console.Error.WriteLine($"workbook: {OneLine(e.Message)}");
                return ExitCode.Failed;
            case JsonException j:
                Console.Error.WriteLine($"workbook: malformed JSON{(j.Path is { Length: > 0 } p ? $" at {p}" : "")}: {OneLine(j.Message)}");
                return ExitCode.Failed;
            case ExternalException:   // libtorch's own errors: the first line is the message, the rest a C++ trace
                Console.Error.WriteLine($"workbook: the tensor engine failed: {OneLine(e.Message)}");
                return ExitCode.Failed;
            default:
                Console.Error.WriteLine($"workbook: internal error ({e.GetType().Name}: {OneLine(e.Message)}); this is a bug — " +
                                        "WORKBOOK_TRACE=1 prints the stack");
                if (Environment.GetEnvironmentVariable("WORKBOOK_TRACE") == "1") Console.Error.WriteLine(e);
                return ExitCode.Internal;
        }
    }

    /// <summary>The first line of a message, at most 300 characters (libtorch appends C++ traces).</summary>
    public static string OneLine(string message)
    {
        var line = message.Split('\n')[0].Trim();
        return line.Length <= 300 ? line : line[..297] + "…";
    }

    /// <summary>A message of at most 4,000 characters.</summary>
    public static string Capped(string message) => message.Length <= 4000 ? message : message[..3997] + "…";

    /// <summary>Shows a user-given name in a message without echoing kilobytes of it.</summary>
    public static string Shown(string name) => Suggestions.Shown(name);

    // ---- output folders ------------------------------------------------------------------------------------------

    /// <summary>The `--overwrite` flag of commands that write a run folder.</summary>
    public static Option<bool> OverwriteOption() => new("--overwrite") { Description = "clear a non-empty --out folder first (default: refuse it, so two runs are never mixed)" };

    /// <summary>A folder name from concepts: readable, and at most 80 characters (longer names end in a hash, so many
    /// concepts never exceed the file system's 255-byte limit).</summary>
    public static string Slug(string text)
    {
        var slug = new string(text.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch == '+' ? ch : '-').ToArray());
        if (slug.Length <= 80) return slug;
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..10].ToLowerInvariant();
        return slug[..69] + "-" + hash;
    }

    // ---- threads -------------------------------------------------------------------------------------------------

    /// <summary>The `--threads` option of the inference-shaped commands (erase, table, generate, evaluate). Defaults,
    /// measured with `./workbook bench engine` on 2 cores: erasure's batch-1 steps run as fast on one thread as on two
    /// (ESD-x 100 updates 10.4 s vs 12.4 s), sampling batches faster on all (16 images × 50 steps 5.6 s vs 3.2–3.5 s).</summary>
    public static Option<int> ThreadsOption() => new("--threads")
        { Description = "libtorch threads (default unless OMP_NUM_THREADS is set: erase and table train on 1, erase evaluates and generate/evaluate sample on all cores)" };

    /// <summary>The largest thread count accepted: more than four per logical CPU only oversubscribes.</summary>
    public static int MaxThreads => 4 * Environment.ProcessorCount;

    /// <summary>Sets libtorch's thread count: the requested count (bounded), else OMP_NUM_THREADS if set, else
    /// <paramref name="fallback"/>.</summary>
    public static void SetThreads(int requested, int fallback = 1)
    {
        if (requested < 0 || requested > MaxThreads)
            throw new ArgumentException($"--threads must lie in [1, {MaxThreads}] (4 per logical CPU), got {requested}");
        if (requested > 0) torch.set_num_threads(requested);
        else if (Environment.GetEnvironmentVariable("OMP_NUM_THREADS") is null) torch.set_num_threads(fallback);
    }

    /// <summary>For a sampling phase after a batch-1 one (erase's evaluation): all cores unless a count was asked for
    /// (measured on 2 cores: 16 images × 50 DDIM steps 4.6 s on one thread, 3.3 s on two).</summary>
    public static void SetSamplingThreads(int requested)
    {
        if (requested == 0 && Environment.GetEnvironmentVariable("OMP_NUM_THREADS") is null) torch.set_num_threads(Environment.ProcessorCount);
    }

    // ---- interruption --------------------------------------------------------------------------------------------

    static PosixSignalRegistration? termination;

    /// <summary>A token cancelled by Ctrl-C (once; twice kills) or SIGTERM: long commands stop after the current step.
    /// (Background jobs of a non-interactive shell ignore SIGINT, so `kill PID` is the way to stop those.)</summary>
    public static CancellationToken Cancel()
    {
        var cts = new CancellationTokenSource();
        termination = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            Console.Error.WriteLine("SIGTERM: stopping after the current step…");
            cts.Cancel();
        });
        Console.CancelKeyPress += (_, e) =>
        {
            if (cts.IsCancellationRequested) return;   // a second Ctrl-C kills the process
            e.Cancel = true;
            Console.Error.WriteLine("stopping after the current step (Ctrl-C again to abort)…");
            cts.Cancel();
        };
        return cts.Token;
    }

    // ---- parsing -------------------------------------------------------------------------------------------------

    /// <summary>A token like `--thread` that matches no option would otherwise be swallowed by a command's list
    /// argument (a concept, a prompt, a notebook path): refuse it, naming the closest option and the others.</summary>
    public static void RejectUnknownOptions(Command root)
    {
        foreach (var command in root.Subcommands.SelectMany(c => c.Subcommands.Prepend(c)))
            foreach (var argument in command.Arguments.Where(a => a.ValueType == typeof(string[])))
                argument.Validators.Add(result =>
                {
                    foreach (var token in result.Tokens.Where(t => t.Value.StartsWith("--")))
                    {
                        var names = command.Options.Select(o => o.Name).ToList();
                        var closest = names.OrderBy(n => Suggestions.EditDistance(n, token.Value)).FirstOrDefault();
                        result.AddError($"unknown option '{Shown(token.Value)}' for '{command.Name}'" +
                                        (closest is not null && Suggestions.EditDistance(closest, token.Value) <= 3 ? $" (did you mean {closest}?)" : "") +
                                        $"; its options are {string.Join(", ", names)}");
                    }
                });
    }
}
