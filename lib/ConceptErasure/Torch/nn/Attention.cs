// Attention.cs — multi-head attention, self or cross (Vaswani et al. 2017), with diffusers' parameter names
// (to_q, to_k, to_v, to_out.0) so that "attn2.to_k" means the same tensor here as in Stable Diffusion.
//
//   Attention(x, c) = softmax(Q Kᵀ / √d) V,   Q = x W_q,  K = c W_k,  V = c W_v   (c = x for self-attention)
namespace ConceptErasure.Torch.nn;

public sealed class Attention : Module
{
    public readonly long query_dim, context_dim, heads, dim_head;
    public readonly double dropout;
    public readonly Linear to_q, to_k, to_v;
    public readonly ModuleList<Module> to_out;   // [Linear, Dropout], named to_out.0 / to_out.1 as in diffusers

    /// <param name="context_dim">Width of the context for cross-attention; null = self-attention.</param>
    public Attention(long query_dim, long? context_dim = null, long heads = 4, long dim_head = 32, double dropout = 0)
    {
        (this.query_dim, this.context_dim, this.heads, this.dim_head, this.dropout) =
            (query_dim, context_dim ?? query_dim, heads, dim_head, dropout);
        var inner = heads * dim_head;
        to_q = register_module("to_q", new Linear(query_dim, inner, bias: false));
        to_k = register_module("to_k", new Linear(this.context_dim, inner, bias: false));
        to_v = register_module("to_v", new Linear(this.context_dim, inner, bias: false));
        to_out = register_module("to_out", new ModuleList<Module>([new Linear(inner, query_dim), new Dropout(dropout)]));
        IsCross = context_dim is not null;
    }

    public bool IsCross { get; }

    /// <param name="x">(B, T, query_dim)</param>
    /// <param name="context">(B, S, context_dim) for cross-attention; null attends to x itself.</param>
    /// <param name="mask">optional bool (B, 1, 1, S) or broadcastable: true = may attend.</param>
    public Tensor forward(Tensor x, Tensor? context = null, Tensor? mask = null)
    {
        using var scope = torch.NewDisposeScope();
        var c = context ?? x;
        long B = x.size(0), T = x.size(1), S = c.size(1);

        // 1. project and split heads: (B, T, h·d) → (B, h, T, d)
        var q = to_q.forward(x).view(B, T, heads, dim_head).transpose(1, 2);
        var k = to_k.forward(c).view(B, S, heads, dim_head).transpose(1, 2);
        var v = to_v.forward(c).view(B, S, heads, dim_head).transpose(1, 2);

        // 2. softmax(q kᵀ/√d) v                                                   // (B, h, T, d)
        var o = F.scaled_dot_product_attention(q, k, v, mask);

        // 3. merge heads and project back                                         // (B, T, query_dim)
        o = o.transpose(1, 2).reshape(B, T, heads * dim_head);
        var y = ((Linear)to_out[0]).forward(o);
        if (dropout > 0 && training) y = F.dropout(y, dropout, true);
        return y.MoveToOuterScope();
    }

    protected override Module CloneModule() => new Attention(query_dim, IsCross ? context_dim : null, heads, dim_head, dropout);
}
