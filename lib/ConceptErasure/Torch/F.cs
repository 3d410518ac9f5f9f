// F.cs — torch.nn.functional: the stateless neural-network functions (linear, conv2d, group_norm, softmax,
// attention, losses, …) that the layers in nn/ and the models in Models/ are written with.
namespace ConceptErasure.Torch;

/// <summary>Loss reductions, as in PyTorch.</summary>
public enum Reduction { None = 0, Mean = 1, Sum = 2 }

public static class F
{
    static Tensor W(nint h, string what) => Tensor.Wrap(h, what);

    public static Tensor linear(Tensor x, Tensor weight, Tensor? bias = null) =>
        W(Native.ct_linear(x.Handle, weight.Handle, bias?.Handle ?? 0), "linear");
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0, long dilation = 1, long groups = 1) =>
        W(Native.ct_conv2d(x.Handle, weight.Handle, bias?.Handle ?? 0, stride, padding, dilation, groups), "conv2d");
    public static Tensor conv_transpose2d(Tensor x, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0, long output_padding = 0, long groups = 1) =>
        W(Native.ct_conv_transpose2d(x.Handle, weight.Handle, bias?.Handle ?? 0, stride, padding, output_padding, groups), "conv_transpose2d");

    /// <summary>Resizes (B, C, H, W) to (B, C, height, width), nearest or bilinear.</summary>
    public static Tensor interpolate(Tensor x, long height, long width, bool bilinear = false, bool align_corners = false) =>
        W(Native.ct_interpolate(x.Handle, height, width, bilinear ? 1 : 0, align_corners ? 1 : 0), "interpolate");
    public static Tensor upsample_nearest(Tensor x, int scale)
    {
        var s = x.shape;
        return interpolate(x, s[^2] * scale, s[^1] * scale);
    }
    public static Tensor avg_pool2d(Tensor x, long kernel, long? stride = null, long padding = 0) =>
        W(Native.ct_avg_pool2d(x.Handle, kernel, stride ?? kernel, padding), "avg_pool2d");
    public static Tensor max_pool2d(Tensor x, long kernel, long? stride = null, long padding = 0) =>
        W(Native.ct_max_pool2d(x.Handle, kernel, stride ?? kernel, padding), "max_pool2d");
    public static Tensor adaptive_avg_pool2d(Tensor x, long height, long width) =>
        W(Native.ct_adaptive_avg_pool2d(x.Handle, height, width), "adaptive_avg_pool2d");
    public static unsafe Tensor pad(Tensor x, long[] pad, double value = 0)
    {
        fixed (long* p = pad) return W(Native.ct_pad(x.Handle, p, pad.Length, value), "pad");
    }

    public static Tensor group_norm(Tensor x, long groups, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5) =>
        W(Native.ct_group_norm(x.Handle, groups, weight?.Handle ?? 0, bias?.Handle ?? 0, eps), "group_norm");
    public static unsafe Tensor layer_norm(Tensor x, long[] normalized_shape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        fixed (long* p = normalized_shape)
            return W(Native.ct_layer_norm(x.Handle, p, normalized_shape.Length, weight?.Handle ?? 0, bias?.Handle ?? 0, eps), "layer_norm");
    }

    public static Tensor softmax(Tensor x, long dim) => x.softmax(dim);
    public static Tensor log_softmax(Tensor x, long dim) => x.log_softmax(dim);
    public static Tensor silu(Tensor x) => x.silu();
    public static Tensor gelu(Tensor x) => x.gelu();
    public static Tensor relu(Tensor x) => x.relu();
    public static Tensor dropout(Tensor x, double p, bool training) => W(Native.ct_dropout(x.Handle, p, training ? 1 : 0), "dropout");
    public static Tensor embedding(Tensor indices, Tensor weight) => W(Native.ct_embedding(weight.Handle, indices.Handle), "embedding");
    public static Tensor one_hot(Tensor indices, long num_classes) => W(Native.ct_one_hot(indices.Handle, num_classes), "one_hot");
    public static Tensor cosine_similarity(Tensor a, Tensor b, long dim = 1, double eps = 1e-8) =>
        W(Native.ct_cosine_similarity(a.Handle, b.Handle, dim, eps), "cosine_similarity");

    /// <summary>Scaled dot-product attention softmax(q·kᵀ·scale + mask)·v on (…, T, d) tensors; scale defaults to
    /// 1/√d. A bool mask keeps the true entries; a float mask is added to the scores.</summary>
    public static Tensor scaled_dot_product_attention(Tensor q, Tensor k, Tensor v, Tensor? mask = null, double? scale = null) =>
        W(Native.ct_attention(q.Handle, k.Handle, v.Handle, mask?.Handle ?? 0, scale ?? 1.0 / Math.Sqrt(q.size(-1))), "attention");

    // ---- losses -----------------------------------------------------------------------------------------------
    public static Tensor mse_loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) =>
        W(Native.ct_mse_loss(input.Handle, target.Handle, (int)reduction), "mse_loss");
    public static Tensor l1_loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) =>
        W(Native.ct_l1_loss(input.Handle, target.Handle, (int)reduction), "l1_loss");
    /// <summary>Cross-entropy of logits (B, C) against class indices (B) or class probabilities (B, C).</summary>
    public static Tensor cross_entropy(Tensor logits, Tensor target, Reduction reduction = Reduction.Mean, double label_smoothing = 0) =>
        W(Native.ct_cross_entropy(logits.Handle, target.Handle, (int)reduction, label_smoothing), "cross_entropy");
    public static Tensor nll_loss(Tensor log_probs, Tensor target, Reduction reduction = Reduction.Mean) =>
        W(Native.ct_nll_loss(log_probs.Handle, target.Handle, (int)reduction), "nll_loss");
    public static Tensor binary_cross_entropy_with_logits(Tensor logits, Tensor target, Reduction reduction = Reduction.Mean) =>
        W(Native.ct_bce_with_logits(logits.Handle, target.Handle, (int)reduction), "binary_cross_entropy_with_logits");

    /// <summary>Gumbel-Softmax over the last dim (Jang et al. 2017): softmax((logits + g)/τ), g ~ Gumbel(0, 1).
    /// With hard, the forward value is the one-hot argmax while gradients flow through the soft sample
    /// (straight-through estimator): y_hard − sg(y_soft) + y_soft.</summary>
    public static Tensor gumbel_softmax(Tensor logits, double tau = 1, bool hard = false, Generator? generator = null)
    {
        using var scope = torch.NewDisposeScope();
        var u = torch.rand(logits.shape, generator, logits.dtype, logits.device);
        var gumbel = -(-(u.clamp_min(1e-20)).log()).clamp_min(1e-20).log();   // g = −log(−log u)
        var soft = ((logits + gumbel) / tau).softmax(-1);
        Tensor result;
        if (hard)
        {
            var index = soft.argmax(-1);
            var oneHot = one_hot(index, logits.size(-1)).to(logits.dtype);
            result = oneHot - soft.detach() + soft;
        }
        else result = soft;
        return result.MoveToOuterScope();
    }
}
