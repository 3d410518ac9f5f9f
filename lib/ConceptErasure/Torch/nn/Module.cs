// Module.cs — the base of every layer and model: named parameters, buffers and submodules with dotted
// hierarchical names (down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_q.weight), train/eval, moving
// between devices, state_dict round trips, deep copies, and selecting/freezing parameters by name.
//
// Erasure needs exactly these operations: a frozen copy θ of the foundation model beside a trainable copy θ′
// (Clone), whose trainable group is a name filter ("only attn2" = ESD-x, "all but attn2" = ESD-u).
using System.Text.RegularExpressions;

namespace ConceptErasure.Torch.nn;

public abstract class Module : IDisposable
{
    // Registration order is kept: it makes state_dict and parameter lists deterministic.
    readonly List<(string name, Parameter? value)> parameters = new();
    readonly List<(string name, Tensor? value)> buffers = new();
    readonly List<(string name, Module value)> modules = new();

    public bool training { get; private set; } = true;

    // ---- registration (called from constructors) --------------------------------------------------------
    protected Parameter register_parameter(string name, Parameter value)
    {
        CheckName(name);
        parameters.Add((name, value));
        return value;
    }
    /// <summary>Registers an optional parameter slot (e.g. a bias that was turned off).</summary>
    protected Parameter? register_optional_parameter(string name, Parameter? value)
    {
        CheckName(name);
        parameters.Add((name, value));
        return value;
    }
    /// <summary>A non-trainable tensor that belongs to the state (saved, moved, cloned). Owned by the module.</summary>
    protected Tensor register_buffer(string name, Tensor value)
    {
        CheckName(name);
        value.DetachFromDisposeScope();
        buffers.Add((name, value));
        return value;
    }
    protected T register_module<T>(string name, T module) where T : Module
    {
        CheckName(name);
        modules.Add((name, module));
        return module;
    }
    void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.')) throw new ArgumentException($"invalid member name '{name}'");
        if (parameters.Any(p => p.name == name) || buffers.Any(b => b.name == name) || modules.Any(m => m.name == name))
            throw new ArgumentException($"{GetType().Name} already has a member named '{name}'");
    }

    // ---- traversal ----------------------------------------------------------------------------------------
    public IEnumerable<(string name, Module module)> named_children() => modules;
    public IEnumerable<(string name, Module module)> named_modules(string prefix = "")
    {
        yield return (prefix, this);
        foreach (var (name, m) in modules)
            foreach (var x in m.named_modules(Join(prefix, name))) yield return x;
    }
    public IEnumerable<(string name, Parameter parameter)> named_parameters(string prefix = "")
    {
        foreach (var (name, p) in parameters)
            if (p is not null) yield return (Join(prefix, name), p);
        foreach (var (name, m) in modules)
            foreach (var x in m.named_parameters(Join(prefix, name))) yield return x;
    }
    public IEnumerable<(string name, Tensor buffer)> named_buffers(string prefix = "")
    {
        foreach (var (name, b) in buffers)
            if (b is not null) yield return (Join(prefix, name), b);
        foreach (var (name, m) in modules)
            foreach (var x in m.named_buffers(Join(prefix, name))) yield return x;
    }
    public IEnumerable<Parameter> parameters_() => named_parameters().Select(p => p.parameter);
    public long parameter_count() => named_parameters().Sum(p => p.parameter.numel());
    static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    /// <summary>Parameters whose dotted name matches the regular expression (e.g. @"\.attn2\.").</summary>
    public List<(string name, Parameter parameter)> parameters_matching(string pattern) =>
        named_parameters().Where(p => Regex.IsMatch(p.name, pattern)).ToList();

    /// <summary>Sets requires_grad on every parameter (false = frozen) and returns this module.</summary>
    public Module requires_grad_(bool on)
    {
        foreach (var p in parameters_()) p.requires_grad = on;
        return this;
    }

    // ---- modes, devices ---------------------------------------------------------------------------------
    public Module train(bool on = true)
    {
        foreach (var (_, m) in named_modules()) m.training = on;
        return this;
    }
    public Module eval() => train(false);

    /// <summary>Moves (or casts) every parameter and buffer in place: the Parameter objects stay the same and
    /// only their data is replaced (PyTorch's `param.data = fn(param.data)`), so optimisers and fields keep working.</summary>
    public Module to(Device device) => Apply(t => t.to(device));
    public Module to(ScalarType dtype) => Apply(t => t.dtype.IsFloatingPoint() ? t.to(dtype) : t.alias());

    Module Apply(Func<Tensor, Tensor> convert)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        foreach (var t in named_parameters().Select(p => (Tensor)p.parameter).Concat(named_buffers().Select(b => b.buffer)))
            t.set_data(convert(t));
        return this;
    }

    public Device device => named_parameters().Select(p => p.parameter.device).FirstOrDefault(Device.CPU);

    // ---- state ----------------------------------------------------------------------------------------------
    /// <summary>Parameters and buffers by dotted name (handles to the live tensors; do not dispose).</summary>
    public Dictionary<string, Tensor> state_dict()
    {
        var d = new Dictionary<string, Tensor>();
        foreach (var (n, p) in named_parameters()) d[n] = p;
        foreach (var (n, b) in named_buffers()) d[n] = b;
        return d;
    }

    /// <summary>Copies values into the parameters and buffers. strict: every key must match both ways, with
    /// equal shapes; otherwise unknown keys are an error and missing ones are reported.</summary>
    public List<string> load_state_dict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var own = state_dict();
        var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
        if (unexpected.Count > 0)
            throw new ArgumentException($"load_state_dict: unexpected keys {string.Join(", ", unexpected.Take(8))}{(unexpected.Count > 8 ? ", …" : "")}");
        if (strict && missing.Count > 0)
            throw new ArgumentException($"load_state_dict: missing keys {string.Join(", ", missing.Take(8))}{(missing.Count > 8 ? ", …" : "")}");
        using var _ = torch.no_grad();
        foreach (var (k, src) in state)
        {
            var dst = own[k];
            var ds = dst.shape; var ss = src.shape;
            if (!ds.SequenceEqual(ss))
                throw new ArgumentException($"load_state_dict: '{k}' has shape [{string.Join(", ", ss)}], the module expects [{string.Join(", ", ds)}]");
            using var converted = src.to(dst.dtype, dst.device);
            dst.copy_(converted);
        }
        return missing;
    }

    /// <summary>A deep copy with its own parameters (same values, same requires_grad, same mode).</summary>
    public T Clone<T>() where T : Module
    {
        T copy;
        using (init.no_init()) copy = (T)CloneModule();
        copy.load_state_dict(state_dict());
        foreach (var ((_, a), (_, b)) in named_parameters().Zip(copy.named_parameters())) b.requires_grad = a.requires_grad;
        copy.train(training);
        return copy;
    }
    /// <summary>Creates a fresh module of the same configuration (values are copied by Clone).</summary>
    protected abstract Module CloneModule();

    public virtual void Dispose()
    {
        foreach (var (_, p) in parameters) p?.Dispose();
        foreach (var (_, b) in buffers) b?.Dispose();
        foreach (var (_, m) in modules) m.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A module with a single-input forward.</summary>
public abstract class Module<TIn, TOut> : Module
{
    public abstract TOut forward(TIn input);
    public TOut call(TIn input) => forward(input);
}
