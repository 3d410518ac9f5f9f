// DisposeScope.cs — deterministic freeing of native tensors, in the spirit of TorchSharp's dispose scopes.
//
// A training step creates hundreds of temporaries; waiting for the GC to finalise them would let native memory
// grow without bound. Inside `using (torch.NewDisposeScope()) { … }` every tensor created on this thread is
// owned by the innermost scope and freed when it ends, unless it was moved out (MoveToOuterScope) or detached
// (DetachFromDisposeScope, as parameters and optimiser state are). Finalisers remain as a safety net.
namespace ConceptErasure.Torch;

public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] static DisposeScope? current;

    readonly List<Tensor> owned = new();
    readonly DisposeScope? outer;
    bool disposed;

    internal DisposeScope()
    {
        outer = current;
        current = this;
    }

    /// <summary>The innermost open scope of this thread, or null.</summary>
    public static DisposeScope? Current => current;

    public DisposeScope? Outer => outer;

    /// <summary>Number of tensors this scope currently owns (for tests and diagnostics).</summary>
    public int Count => owned.Count(t => t.Owner == this && !t.IsInvalid);

    internal void Adopt(Tensor t)
    {
        t.Owner = this;
        owned.Add(t);
    }

    /// <summary>Frees every tensor still owned by this scope and closes it. Scopes must close innermost-first.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var t in owned)
            if (t.Owner == this) t.Dispose();
        owned.Clear();
        if (current == this) current = outer;
    }
}
