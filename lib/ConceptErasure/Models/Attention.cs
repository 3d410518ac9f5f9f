// Attention.cs — multi-head attention, self or cross (Vaswani et al. 2017), with diffusers' parameter names
// (to_q, to_k, to_v, to_out.0) so that "attn2.to_k" means the same tensor here as in Stable Diffusion.
//
//   Attention(x, c) = softmax(Q Kᵀ / √d) V,   Q = x W_q,  K = c W_k,  V = c W_v   (c = x for self-attention)
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Models;

public sealed class Attention : nn.Module
{
    public readonly long query_dim, context_dim, heads, dim_head;
    public readonly Linear to_q, to_k, to_v;
    public readonly ModuleList<nn.Module> to_out;   // [Linear, Dropout], named to_out.0 / to_out.1 as in diffusers
    // Module-typed fields are registered by TorchSharp under their names, so aliases are properties, not fields.
    Linear projection => (Linear)to_out[0];

    /// <param name="context_dim">Width of the context for cross-attention; null = self-attention.</param>
    public Attention(long query_dim, long? context_dim = null, long heads = 4, long dim_head = 32) : base(nameof(Attention))
    {
        (this.query_dim, this.context_dim, this.heads, this.dim_head) = (query_dim, context_dim ?? query_dim, heads, dim_head);
        var inner = heads * dim_head;
        to_q = nn.Linear(query_dim, inner, hasBias: false);
        to_k = nn.Linear(this.context_dim, inner, hasBias: false);
        to_v = nn.Linear(this.context_dim, inner, hasBias: false);
        to_out = nn.ModuleList<nn.Module>(nn.Linear(inner, query_dim), nn.Dropout(0));
        register_module(nameof(to_q), to_q);
        register_module(nameof(to_k), to_k);
        register_module(nameof(to_v), to_v);
        register_module(nameof(to_out), to_out);
        IsCross = context_dim is not null;
    }

    public bool IsCross { get; }

    /// <param name="x">(B, T, query_dim)</param>
    /// <param name="context">(B, S, context_dim) for cross-attention; null attends to x itself.</param>
    public Tensor forward(Tensor x, Tensor? context = null)
    {
        using var scope = NewDisposeScope();
        var c = context ?? x;
        long B = x.size(0), T = x.size(1), S = c.size(1);

        // 1. project and split heads: (B, T, h·d) → (B, h, T, d)
        var q = to_q.forward(x).view(B, T, heads, dim_head).transpose(1, 2);
        var k = to_k.forward(c).view(B, S, heads, dim_head).transpose(1, 2);
        var v = to_v.forward(c).view(B, S, heads, dim_head).transpose(1, 2);

        // 2. softmax(q kᵀ/√d) v, fused                                              // (B, h, T, d)
        var o = nn.functional.scaled_dot_product_attention(q, k, v);

        // 3. merge heads and project back                                           // (B, T, query_dim)
        o = o.transpose(1, 2).reshape(B, T, heads * dim_head);
        return projection.forward(o).MoveToOuterDisposeScope();
    }
}
