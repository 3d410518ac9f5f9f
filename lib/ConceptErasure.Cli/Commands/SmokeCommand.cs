// `workbook smoke`: builds a tiny conv net and trains it for a few steps on synthetic bars — proof that the
// whole stack (TorchSharp, autograd, modules, optimiser, dispose scopes) works on this machine, in seconds.
using System.CommandLine;
using System.Diagnostics;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Cli.Commands;

internal static class SmokeCommand
{
    public static Command Create()
    {
        var steps = new Option<int>("--steps") { Description = "training steps", DefaultValueFactory = _ => 100 };
        var seed = new Option<ulong>("--seed") { Description = "random seed", DefaultValueFactory = _ => 0 };
        var cmd = new Command("smoke", "Train a tiny conv net for a few steps (checks the whole stack).");
        cmd.Options.Add(steps);
        cmd.Options.Add(seed);
        cmd.SetAction(r =>
        {
            var n = r.GetValue(steps);
            if (n < 1) { Console.Error.WriteLine("workbook smoke: --steps must be ≥ 1"); return 2; }
            return Run(n, r.GetValue(seed));
        });
        return cmd;
    }

    static int Run(int steps, ulong seed)
    {
        torch.manual_seed((long)seed);
        using var g = Rng.Create(seed);
        using var net = nn.Sequential(nn.Conv2d(1, 8, 3, padding: 1), nn.SiLU(), nn.Conv2d(8, 8, 3, stride: 2, padding: 1),
            nn.SiLU(), nn.Conv2d(8, 2, 4, stride: 4));
        using var opt = optim.Adam(net.parameters(), lr: 3e-3);
        Console.WriteLine($"libtorch {torch.__version__}, {torch.get_num_threads()} threads; {net.ParameterCount()} parameters");
        var sw = Stopwatch.StartNew();
        double smoothed = Math.Log(2);
        for (var step = 1; step <= steps; step++)
        {
            using var scope = NewDisposeScope();
            // class 0: a bright row, class 1: a bright column, at a random position, in Gaussian noise
            var labels = Rng.randint(0, 2, [32], g);
            var pos = Rng.randint(0, 8, [32], g);
            var rows = nn.functional.one_hot(pos, 8).@float().unsqueeze(2).expand(32, 8, 8);
            var bars = torch.where(labels.eq(0).reshape(32, 1, 1), rows, rows.transpose(1, 2));
            var x = (bars + Rng.randn([32, 8, 8], g) * 0.3).unsqueeze(1);
            opt.zero_grad();
            var loss = nn.functional.cross_entropy(net.forward(x).flatten(1), labels);
            loss.backward();
            opt.step();
            smoothed = 0.9 * smoothed + 0.1 * loss.ToDouble();
            if (step % Math.Max(1, steps / 10) == 0 || step == steps)
                Console.WriteLine($"step {step,5}  loss {smoothed:F4}  {sw.Elapsed.TotalSeconds:F1}s");
        }
        var ok = smoothed < 0.2;
        Console.WriteLine(ok ? "smoke: OK (loss fell below 0.2)" : $"smoke: loss {smoothed:F3} did not fall below 0.2 — something is wrong");
        return ok || steps < 100 ? 0 : 1;
    }
}
