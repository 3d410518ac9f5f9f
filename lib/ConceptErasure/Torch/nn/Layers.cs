// Layers.cs — the standard layers (Linear, Conv2d, GroupNorm, LayerNorm, Embedding, Dropout) and containers
// (Sequential, ModuleList), with PyTorch's parameter names and default initialisation, so checkpoints use the
// same keys as their PyTorch counterparts (`weight`, `bias`, `0.weight`, …).
namespace ConceptErasure.Torch.nn;

/// <summary>Parameter initialisers (PyTorch's defaults), drawing from the global generator.</summary>
public static class init
{
    [ThreadStatic] static int skipping;

    /// <summary>Inside this scope layers allocate parameters without random initialisation (used by Clone and by
    /// loaders that overwrite every value anyway), so building a copy does not consume random numbers.</summary>
    public static IDisposable no_init() { skipping++; return new Restore(); }
    sealed class Restore : IDisposable { public void Dispose() => skipping--; }
    public static bool Skipping => skipping > 0;

    /// <summary>U(−bound, bound) with bound = 1/√fan_in: PyTorch's default for Linear/Conv weights and biases
    /// (kaiming_uniform with a = √5 reduces to this bound for the weight).</summary>
    public static Parameter uniform_fan_in(long[] shape, long fanIn)
    {
        var t = torch.empty(shape);
        if (!Skipping)
        {
            var bound = 1.0 / Math.Sqrt(Math.Max(1, fanIn));
            using var _ = torch.no_grad();
            t.uniform_(-bound, bound);
        }
        return new Parameter(t);
    }
    public static Parameter constant(long[] shape, double value) => new(torch.full(shape, value));
    public static Parameter normal(long[] shape, double std)
    {
        var t = torch.empty(shape);
        if (!Skipping) { using var _ = torch.no_grad(); t.normal_(0, std); }
        return new Parameter(t);
    }
}

public sealed class Linear : Module<Tensor, Tensor>
{
    public readonly long in_features, out_features;
    public readonly Parameter weight;    // (out, in)
    public readonly Parameter? bias;     // (out)

    public Linear(long in_features, long out_features, bool bias = true)
    {
        this.in_features = in_features;
        this.out_features = out_features;
        weight = register_parameter("weight", init.uniform_fan_in([out_features, in_features], in_features));
        this.bias = register_optional_parameter("bias", bias ? init.uniform_fan_in([out_features], in_features) : null);
    }
    public override Tensor forward(Tensor x) => F.linear(x, weight, bias);   // (…, in) → (…, out)
    protected override Module CloneModule() => new Linear(in_features, out_features, bias is not null);
}

public sealed class Conv2d : Module<Tensor, Tensor>
{
    public readonly long in_channels, out_channels, kernel_size, stride, padding, groups;
    public readonly Parameter weight;    // (out, in/groups, k, k)
    public readonly Parameter? bias;

    public Conv2d(long in_channels, long out_channels, long kernel_size, long stride = 1, long padding = 0, bool bias = true, long groups = 1)
    {
        (this.in_channels, this.out_channels, this.kernel_size, this.stride, this.padding, this.groups) =
            (in_channels, out_channels, kernel_size, stride, padding, groups);
        var fanIn = in_channels / groups * kernel_size * kernel_size;
        weight = register_parameter("weight", init.uniform_fan_in([out_channels, in_channels / groups, kernel_size, kernel_size], fanIn));
        this.bias = register_optional_parameter("bias", bias ? init.uniform_fan_in([out_channels], fanIn) : null);
    }
    public override Tensor forward(Tensor x) => F.conv2d(x, weight, bias, stride, padding, 1, groups);
    protected override Module CloneModule() => new Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias is not null, groups);
}

public sealed class GroupNorm : Module<Tensor, Tensor>
{
    public readonly long num_groups, num_channels;
    public readonly double eps;
    public readonly Parameter weight, bias;

    public GroupNorm(long num_groups, long num_channels, double eps = 1e-5)
    {
        if (num_channels % num_groups != 0) throw new ArgumentException($"GroupNorm: {num_channels} channels are not divisible into {num_groups} groups");
        (this.num_groups, this.num_channels, this.eps) = (num_groups, num_channels, eps);
        weight = register_parameter("weight", init.constant([num_channels], 1));
        bias = register_parameter("bias", init.constant([num_channels], 0));
    }
    public override Tensor forward(Tensor x) => F.group_norm(x, num_groups, weight, bias, eps);
    protected override Module CloneModule() => new GroupNorm(num_groups, num_channels, eps);
}

public sealed class LayerNorm : Module<Tensor, Tensor>
{
    public readonly long normalized_shape;
    public readonly double eps;
    public readonly Parameter weight, bias;

    public LayerNorm(long normalized_shape, double eps = 1e-5)
    {
        (this.normalized_shape, this.eps) = (normalized_shape, eps);
        weight = register_parameter("weight", init.constant([normalized_shape], 1));
        bias = register_parameter("bias", init.constant([normalized_shape], 0));
    }
    public override Tensor forward(Tensor x) => F.layer_norm(x, [normalized_shape], weight, bias, eps);
    protected override Module CloneModule() => new LayerNorm(normalized_shape, eps);
}

public sealed class Embedding : Module<Tensor, Tensor>
{
    public readonly long num_embeddings, embedding_dim;
    public readonly Parameter weight;   // (num, dim), N(0, 1) as in PyTorch

    public Embedding(long num_embeddings, long embedding_dim, double std = 1.0)
    {
        (this.num_embeddings, this.embedding_dim) = (num_embeddings, embedding_dim);
        weight = register_parameter("weight", init.normal([num_embeddings, embedding_dim], std));
    }
    public override Tensor forward(Tensor indices) => F.embedding(indices, weight);   // (…) int64 → (…, dim)
    protected override Module CloneModule() => new Embedding(num_embeddings, embedding_dim);
}

public sealed class Dropout(double p = 0.5) : Module<Tensor, Tensor>
{
    public readonly double p = p;
    public override Tensor forward(Tensor x) => p == 0 || !training ? x.alias() : F.dropout(x, p, training);
    protected override Module CloneModule() => new Dropout(p);
}

public sealed class SiLU : Module<Tensor, Tensor>
{
    public override Tensor forward(Tensor x) => x.silu();
    protected override Module CloneModule() => new SiLU();
}

public sealed class GELU : Module<Tensor, Tensor>
{
    public override Tensor forward(Tensor x) => x.gelu();
    protected override Module CloneModule() => new GELU();
}

/// <summary>Modules applied in order; children are named "0", "1", … as in PyTorch.</summary>
public sealed class Sequential : Module<Tensor, Tensor>
{
    readonly List<Module<Tensor, Tensor>> layers = new();
    public Sequential(params Module<Tensor, Tensor>[] modules)
    {
        foreach (var m in modules) layers.Add(register_module(layers.Count.ToString(), m));
    }
    public int Count => layers.Count;
    public Module<Tensor, Tensor> this[int i] => layers[i];
    public override Tensor forward(Tensor x)
    {
        // Intermediate results are freed as soon as the next layer has consumed them.
        var h = layers[0].forward(x);
        for (var i = 1; i < layers.Count; i++)
        {
            var next = layers[i].forward(h);
            h.Dispose();
            h = next;
        }
        return h;
    }
    protected override Module CloneModule()
    {
        using var _ = init.no_init();
        return new Sequential(layers.Select(l => (Module<Tensor, Tensor>)l.Clone<Module>()).ToArray());
    }
}

/// <summary>A list of submodules named "0", "1", … (diffusers' down_blocks, resnets, attentions, …).</summary>
public sealed class ModuleList<T> : Module, IReadOnlyList<T> where T : Module
{
    readonly List<T> items = new();
    public ModuleList(IEnumerable<T> modules)
    {
        foreach (var m in modules) items.Add(register_module(items.Count.ToString(), m));
    }
    public T this[int i] => items[i];
    public int Count => items.Count;
    public IEnumerator<T> GetEnumerator() => items.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    protected override Module CloneModule()
    {
        using var _ = init.no_init();
        return new ModuleList<T>(items.Select(m => m.Clone<T>()));
    }
}
