// workbook-kernel --pipe NAME: connects to the parent's named pipe, creates the kernel (KernelSession), says
// "ready", then runs the cells it is sent, one at a time, until "quit" or the end of the pipe. Ctrl-C in a
// terminal reaches every process of the group: this process ignores SIGINT and SIGQUIT so that the parent,
// which owns the notebook, decides what happens (it stops the run, keeps what ran and ends this process).
// If the parent goes away, the next write fails and this process exits. Exit codes: 0 after "quit" or the
// end of the pipe, 2 for wrong arguments, 3 when the pipe broke.
using System.IO.Pipes;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using ConceptErasure.Notebooks;

if (args.Length != 2 || args[0] != KernelProtocol.PipeOption)
{
    Console.Error.WriteLine($"usage: workbook-kernel {KernelProtocol.PipeOption} NAME (started by `workbook notebooks run`)");
    return 2;
}

using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);
using var sigquit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, c => c.Cancel = true);

using var pipe = new NamedPipeClientStream(".", args[1], PipeDirection.InOut, PipeOptions.Asynchronous);
await pipe.ConnectAsync(30_000);
using var reader = new StreamReader(pipe, KernelProtocol.Encoding);
var channel = new PipeChannel(new StreamWriter(pipe, KernelProtocol.Encoding) { NewLine = "\n", AutoFlush = true });

using var session = new KernelSession(channel);
channel.Send(new JsonObject { ["ev"] = KernelProtocol.Ready, ["engine"] = KernelSession.EngineVersion });
while (await reader.ReadLineAsync() is { } line)
{
    var message = KernelProtocol.Parse(line);
    switch ((string?)message["op"])
    {
        case KernelProtocol.Run:
            var ok = await session.RunCellAsync((int)message["cell"]!, (string)message["code"]!);
            channel.Send(new JsonObject { ["ev"] = KernelProtocol.Done, ["ok"] = ok });
            break;
        case KernelProtocol.Quit:
            return 0;
        default:
            throw new FormatException($"Unknown kernel command '{message["op"]}'.");
    }
}
return 0;

/// <summary>Writes messages to the pipe, one line each, from any thread; a broken pipe ends the process.</summary>
internal sealed class PipeChannel(StreamWriter writer) : IMessageSink
{
    private readonly object _gate = new();

    public void Send(JsonObject message)
    {
        var line = KernelProtocol.Serialize(message);
        lock (_gate)
        {
            try
            {
                writer.WriteLine(line);
            }
            catch (IOException)
            {
                Environment.Exit(3);
            }
        }
    }
}
