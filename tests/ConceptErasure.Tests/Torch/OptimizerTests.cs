// Optimisers against hand computations, schedules, clipping, state round trip, and a small net that learns.
using ConceptErasure.Torch;
using ConceptErasure.Torch.nn;
using ConceptErasure.Torch.optim;

namespace ConceptErasure.Tests.Torch;

[Collection("global torch state")]
public class OptimizerTests
{
    static Parameter P(params double[] v) => new(torch.tensor(v));

    [Fact]
    public void AdamFirstStepsMatchHandComputation()
    {
        using var p = P(1.0, -2.0);
        using var opt = new Adam([p], lr: 0.1);
        double[] m = [0, 0], v = [0, 0], x = [1, -2];
        for (var t = 1; t <= 3; t++)
        {
            opt.zero_grad();
            using (var s = torch.NewDisposeScope()) (p.square() * 3.0).sum().backward();   // g = 6x
            opt.step();
            for (var i = 0; i < 2; i++)
            {
                var g = 6 * x[i];
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.999 * v[i] + 0.001 * g * g;
                var mh = m[i] / (1 - Math.Pow(0.9, t));
                var vh = v[i] / (1 - Math.Pow(0.999, t));
                x[i] -= 0.1 * mh / (Math.Sqrt(vh) + 1e-8);
            }
            var got = p.ToDoubleArray();
            Assert.Equal(x[0], got[0], 12);
            Assert.Equal(x[1], got[1], 12);
        }
    }

    [Fact]
    public void AdamWDecaysDecoupledFromGradient()
    {
        using var p = P(2.0);
        using var opt = new AdamW([p], lr: 0.1, weight_decay: 0.5);
        using (var s = torch.NewDisposeScope()) (p * 0.0).sum().backward();   // zero gradient: only the decay acts
        opt.step();
        Assert.Equal(2.0 * (1 - 0.1 * 0.5), p.item(), 12);
    }

    [Fact]
    public void SgdMomentumMatchesHandComputation()
    {
        using var p = P(1.0);
        using var opt = new SGD([p], lr: 0.1, momentum: 0.9);
        double x = 1, b = 0;
        for (var t = 0; t < 3; t++)
        {
            opt.zero_grad();
            using (var s = torch.NewDisposeScope()) p.square().sum().backward();
            opt.step();
            var g = 2 * x;
            b = t == 0 ? g : 0.9 * b + g;
            x -= 0.1 * b;
            Assert.Equal(x, p.item(), 12);
        }
    }

    [Fact]
    public void ClipGradNormBoundsTheJointNorm()
    {
        using var a = P(3.0);
        using var b = P(4.0);
        using (var s = torch.NewDisposeScope()) (a * a * 0.5 + b * b * 0.5).sum().backward();   // grads 3, 4 → norm 5
        var norm = utils.clip_grad_norm_([a, b], 1.0);
        Assert.Equal(5.0, norm, 9);
        using var ga = a.grad!; using var gb = b.grad!;
        Assert.Equal(1.0, Math.Sqrt(ga.item() * ga.item() + gb.item() * gb.item()), 5);
    }

    [Fact]
    public void SchedulesAreShapedAsDocumented()
    {
        var s = new LrSchedule.WarmupCosine(Peak: 1e-3, Warmup: 10, Total: 110, Floor: 1e-5);
        Assert.Equal(1e-4, s.At(1), 12);
        Assert.Equal(1e-3, s.At(10), 12);
        Assert.Equal((1e-3 + 1e-5) / 2, s.At(60), 12);
        Assert.Equal(1e-5, s.At(110), 12);
        Assert.Equal(5e-4, new LrSchedule.Constant(1e-3, 4).At(2), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([P(1.0)], lr: -1));
    }

    [Fact]
    public void OptimizerStateRoundTripContinuesIdentically()
    {
        double[] Run(bool interrupt)
        {
            torch.manual_seed(11);
            using var net = new Sequential(new Linear(3, 8), new SiLU(), new Linear(8, 1));
            var opt = new Adam(net.parameters_(), lr: 1e-2);
            using var x = torch.randn(16, 3);
            using var y = x.sum(1, keepdim: true).sin();
            for (var step = 0; step < 10; step++)
            {
                if (interrupt && step == 5)
                {
                    // simulate a checkpoint: copy out the state, build a fresh optimiser, load it back
                    var saved = opt.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone().DetachFromDisposeScope());
                    opt.Dispose();
                    opt = new Adam(net.parameters_(), lr: 1e-2);
                    opt.load_state_dict(saved);
                    foreach (var t in saved.Values) t.Dispose();
                }
                using var s = torch.NewDisposeScope();
                opt.zero_grad();
                F.mse_loss(net.forward(x), y).backward();
                opt.step();
            }
            var result = net.parameters_().SelectMany(p => p.ToDoubleArray()).ToArray();
            opt.Dispose();
            return result;
        }
        Assert.Equal(Run(false), Run(true));
    }

    [Fact]
    public void SameSeedSameThreadsGivesBitIdenticalTraining()
    {
        float[] Train()
        {
            torch.manual_seed(99);
            using var net = new Sequential(new Linear(4, 16), new GELU(), new Linear(16, 2));
            using var opt = new AdamW(net.parameters_(), lr: 3e-3);
            using var g = new Generator(3);
            for (var i = 0; i < 20; i++)
            {
                using var s = torch.NewDisposeScope();
                var x = torch.randn([32, 4], g);
                opt.zero_grad();
                F.cross_entropy(net.forward(x), x.sum(1).gt(0).@long()).backward();
                opt.step();
            }
            return net.parameters_().SelectMany(p => p.data<float>()).ToArray();
        }
        Assert.Equal(Train(), Train());
    }

    [Fact]
    public void SmallConvNetLearnsToClassify()
    {
        // Two classes of 8×8 images: a bright horizontal bar vs a bright vertical bar, at random positions, in noise.
        torch.manual_seed(0);
        using var g = new Generator(0);
        using var net = new Sequential(
            new Conv2d(1, 8, 3, padding: 1), new SiLU(), new Conv2d(8, 8, 3, stride: 2, padding: 1), new SiLU(),
            new Flatten(), new Linear(8 * 4 * 4, 2));
        using var opt = new Adam(net.parameters_(), lr: 3e-3);
        (Tensor x, Tensor y) Batch(int n)
        {
            var images = new float[n * 64];
            var labels = new long[n];
            using var noise = torch.randn([n * 64], g);
            var eps = noise.data<float>();
            using var pos = torch.randint(0, 8, [n], g);
            var ps = pos.data<long>();
            for (var i = 0; i < n; i++)
            {
                labels[i] = i % 2;
                for (var j = 0; j < 64; j++) images[i * 64 + j] = 0.3f * eps[i * 64 + j];
                for (var k = 0; k < 8; k++)
                    images[i * 64 + (labels[i] == 0 ? ps[i] * 8 + k : k * 8 + ps[i])] += 1f;
            }
            return (torch.tensor(images, [n, 1, 8, 8]), torch.tensor(labels));
        }
        double loss = 0;
        for (var step = 0; step < 200; step++)
        {
            using var s = torch.NewDisposeScope();
            var (x, y) = Batch(32);
            opt.zero_grad();
            var l = F.cross_entropy(net.forward(x), y);
            l.backward();
            opt.step();
            loss = 0.9 * loss + 0.1 * l.item();
        }
        Assert.True(loss < 0.1, $"smoothed training loss {loss:F4} after 200 steps");
        using var scope = torch.NewDisposeScope();
        var (tx, ty) = Batch(200);
        using (torch.no_grad())
        {
            var acc = net.forward(tx).argmax(1).eq(ty).@float().mean().item();
            Assert.True(acc > 0.97, $"held-out accuracy {acc:P1}");
        }
    }

    sealed class Flatten : Module<Tensor, Tensor>
    {
        public override Tensor forward(Tensor x) => x.flatten(1);
        protected override Module CloneModule() => new Flatten();
    }
}
