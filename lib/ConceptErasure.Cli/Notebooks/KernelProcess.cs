// One workbook-kernel child process (lib/ConceptErasure.Notebooks): the .NET Interactive C# kernel a single
// notebook runs in, started with the notebook's folder as working directory and WORKBOOK_FAST set, spoken
// to over a named pipe (KernelProtocol). A separate process keeps the notebook's own copy of the library
// (and, with TorchSharp, its natives) the only one loaded, lets a cell be stopped by ending the process (a
// timeout, Ctrl-C), and turns a cell that ends the process (Environment.Exit, a native crash) into a failure
// of that notebook rather than of the command. The child's stdout and stderr carry only diagnostics; they
// are passed to the progress log line by line.
using System.Diagnostics;
using System.IO.Pipes;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ConceptErasure.Notebooks;

namespace ConceptErasure.Cli.Notebooks;

/// <summary>How a cell's run ended.</summary>
public enum CellOutcome
{
    Succeeded,
    Failed,
    /// <summary>The kernel process ended while the cell ran (Environment.Exit, a crash).</summary>
    KernelExited,
    TimedOut,
    Cancelled,
}

/// <summary>The kernel could not be started (missing build, a broken installation).</summary>
public sealed class KernelStartException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>A started kernel; see the file header.</summary>
internal sealed class KernelProcess : IAsyncDisposable
{
    /// <summary>Environment variable naming workbook-kernel.dll explicitly (default: kernel/ beside this program).</summary>
    public const string KernelVariable = "WORKBOOK_KERNEL";

    private readonly Process _process;
    private readonly NamedPipeServerStream _pipe;
    private StreamReader? _reader;
    private StreamWriter? _writer;

    private KernelProcess(Process process, NamedPipeServerStream pipe)
    {
        _process = process;
        _pipe = pipe;
    }

    private StreamReader Reader => _reader ??= new StreamReader(_pipe, KernelProtocol.Encoding);

    private StreamWriter Writer => _writer ??= new StreamWriter(_pipe, KernelProtocol.Encoding) { NewLine = "\n", AutoFlush = true };

    /// <summary>The engine version the kernel reported.</summary>
    public string Engine { get; private set; } = "";

    /// <summary>The process's exit code once it has ended.</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>workbook-kernel.dll: $WORKBOOK_KERNEL, else kernel/workbook-kernel.dll beside this program.</summary>
    public static string KernelPath() =>
        Environment.GetEnvironmentVariable(KernelVariable) is { Length: > 0 } own
            ? Path.GetFullPath(own)
            : Path.Combine(AppContext.BaseDirectory, "kernel", "workbook-kernel.dll");

    /// <summary>Starts the kernel in <paramref name="workingDirectory"/> and waits until it is ready.</summary>
    public static async Task<KernelProcess> StartAsync(string workingDirectory, bool fast, Action<string> log, CancellationToken ct)
    {
        var kernel = KernelPath();
        if (!File.Exists(kernel))
            throw new KernelStartException($"The notebook kernel {kernel} is missing: build lib.sln (`./workbook setup`), or set {KernelVariable}.");
        var name = "workbook-kernel-" + Environment.ProcessId + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var pipe = new NamedPipeServerStream(name, PipeDirection.InOut, 1, PipeTransmissionMode.Byte, PipeOptions.Asynchronous);
        var psi = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(kernel);
        psi.ArgumentList.Add(KernelProtocol.PipeOption);
        psi.ArgumentList.Add(name);
        psi.Environment[Workbook.Run.FastVariable] = fast ? "1" : "0";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new KernelStartException($"Could not start {psi.FileName}.");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            await pipe.DisposeAsync();
            throw new KernelStartException($"Could not start the notebook kernel with '{psi.FileName}': {e.Message}", e);
        }
        process.StandardInput.Close();   // a cell that reads Console.In sees the end of input, as headless cells should
        process.OutputDataReceived += (_, e) => { if (e.Data is { Length: > 0 } l) log("kernel: " + l); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 } l) log("kernel: " + l); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var kp = new KernelProcess(process, pipe);
        try
        {
            using var startup = CancellationTokenSource.CreateLinkedTokenSource(ct);
            startup.CancelAfter(TimeSpan.FromMinutes(2));
            var connect = pipe.WaitForConnectionAsync(startup.Token);
            if (await Task.WhenAny(connect, process.WaitForExitAsync(startup.Token)) != connect || !pipe.IsConnected)
            {
                ct.ThrowIfCancellationRequested();
                throw new KernelStartException($"The notebook kernel ended before it connected (exit code {(process.HasExited ? process.ExitCode : -1)}).");
            }
            var ready = await kp.ReadAsync(startup.Token)
                ?? throw new KernelStartException($"The notebook kernel ended while starting (exit code {kp.WaitForExit()}).");
            if ((string?)ready["ev"] != KernelProtocol.Ready) throw new KernelStartException($"The notebook kernel said '{ready["ev"]}' instead of '{KernelProtocol.Ready}'.");
            kp.Engine = (string?)ready["engine"] ?? "";
            return kp;
        }
        catch
        {
            await kp.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Runs one cell, handing each output message to <paramref name="onMessage"/> as it arrives. On a timeout or
    /// cancellation the kernel is ended (it cannot be used afterwards).
    /// </summary>
    public async Task<CellOutcome> RunCellAsync(int cell, string code, Action<JsonObject> onMessage, TimeSpan? timeout, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (timeout is { } t) limit.CancelAfter(t);
        try
        {
            await Writer.WriteLineAsync(KernelProtocol.Serialize(new JsonObject { ["op"] = KernelProtocol.Run, ["cell"] = cell, ["code"] = code }).AsMemory(), limit.Token);
            while (await ReadAsync(limit.Token) is { } message)
            {
                if ((string?)message["ev"] == KernelProtocol.Done) return (bool?)message["ok"] == true ? CellOutcome.Succeeded : CellOutcome.Failed;
                onMessage(message);
            }
            WaitForExit();
            return CellOutcome.KernelExited;
        }
        catch (OperationCanceledException)
        {
            Kill();
            return ct.IsCancellationRequested ? CellOutcome.Cancelled : CellOutcome.TimedOut;
        }
        catch (IOException)
        {
            // The pipe broke: the kernel ended while writing or reading.
            WaitForExit();
            return CellOutcome.KernelExited;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited && _pipe.IsConnected)
        {
            try
            {
                await Writer.WriteLineAsync(KernelProtocol.Serialize(new JsonObject { ["op"] = KernelProtocol.Quit }));
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
            {
                // Ended below.
            }
        }
        Kill();
        await _pipe.DisposeAsync();
        _process.Dispose();
    }

    private async Task<JsonObject?> ReadAsync(CancellationToken ct) =>
        await Reader.ReadLineAsync(ct) is { } line ? KernelProtocol.Parse(line) : null;

    private int WaitForExit()
    {
        if (!_process.WaitForExit(TimeSpan.FromSeconds(10))) Kill();
        _process.WaitForExit();
        return _process.ExitCode;
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    /// <summary>The dotnet executable running this program, else the one on PATH.</summary>
    private static string DotnetHost()
    {
        var self = Environment.ProcessPath;
        var exe = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        if (self is not null && string.Equals(Path.GetFileName(self), exe, StringComparison.OrdinalIgnoreCase)) return self;
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        return exe;
    }
}
