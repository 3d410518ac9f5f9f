// TextEncoder.cs — the CLIP text transformer (Radford et al. 2021) in miniature: token + position embeddings,
// pre-norm transformer layers with a causal mask, a final layer norm. Its per-token hidden states are the
// conditioning c that the UNet cross-attends to, exactly as Stable Diffusion uses CLIP ViT-L/14's text tower;
// the state at the end-of-text token, projected, is the sentence embedding CLIP is trained with.
//
// Parameter names follow Hugging Face's CLIPTextModel (text_model.embeddings.token_embedding.weight,
// text_model.encoder.layers.0.self_attn.q_proj.weight, …).
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Models;

/// <summary>Configuration of the text tower. Defaults are the workbook's shipped model; StableDiffusionV1 is
/// CLIP ViT-L/14's text tower for comparison.</summary>
public sealed record TextEncoderConfig
{
    public int vocab_size { get; init; } = 4096;            // tokenizer vocabulary (data/emoji/vocab.txt), padded
    public int max_position_embeddings { get; init; } = 16;   // context length (CLIP: 77)
    public int hidden_size { get; init; } = 128;              // token width = the UNet's cross_attention_dim
    public int intermediate_size { get; init; } = 512;        // MLP width (4×)
    public int num_hidden_layers { get; init; } = 4;
    public int num_attention_heads { get; init; } = 4;
    public int projection_dim { get; init; } = 128;           // CLIP joint embedding width
    public double layer_norm_eps { get; init; } = 1e-5;

    public static TextEncoderConfig StableDiffusionV1 => new()
    {
        vocab_size = 49408, max_position_embeddings = 77, hidden_size = 768, intermediate_size = 3072,
        num_hidden_layers = 12, num_attention_heads = 12, projection_dim = 768,
    };
}

/// <summary>q/k/v/out projections of one layer's self-attention (HF's CLIPAttention).</summary>
public sealed class ClipAttention : nn.Module
{
    public readonly Linear k_proj, v_proj, q_proj, out_proj;
    public ClipAttention(long width) : base(nameof(ClipAttention))
    {
        k_proj = nn.Linear(width, width);
        v_proj = nn.Linear(width, width);
        q_proj = nn.Linear(width, width);
        out_proj = nn.Linear(width, width);
        RegisterComponents();
    }
}

/// <summary>fc1 → quick-GELU → fc2 (HF's CLIPMLP).</summary>
public sealed class ClipMlp : nn.Module
{
    public readonly Linear fc1, fc2;
    public ClipMlp(long width, long inner) : base(nameof(ClipMlp))
    {
        fc1 = nn.Linear(width, inner);
        fc2 = nn.Linear(inner, width);
        RegisterComponents();
    }
}

/// <summary>One pre-norm layer: x + SelfAttn(LN(x)), then x + MLP(LN(x)) with quick-GELU as in CLIP.</summary>
public sealed class ClipEncoderLayer : nn.Module
{
    public readonly ClipAttention self_attn;
    public readonly LayerNorm layer_norm1;
    public readonly ClipMlp mlp;
    public readonly LayerNorm layer_norm2;
    readonly long heads;

    public ClipEncoderLayer(TextEncoderConfig c) : base(nameof(ClipEncoderLayer))
    {
        heads = c.num_attention_heads;
        self_attn = new ClipAttention(c.hidden_size);
        layer_norm1 = nn.LayerNorm(c.hidden_size, c.layer_norm_eps);
        mlp = new ClipMlp(c.hidden_size, c.intermediate_size);
        layer_norm2 = nn.LayerNorm(c.hidden_size, c.layer_norm_eps);
        RegisterComponents();
    }

    /// <param name="x">(B, T, D)</param><param name="mask">(1, 1, T, T) bool, true = may attend</param>
    public Tensor forward(Tensor x, Tensor mask)
    {
        using var scope = NewDisposeScope();
        long B = x.size(0), T = x.size(1), D = x.size(2), d = D / heads;
        // 1. self-attention, pre-norm                                                  // (B, heads, T, d)
        var h = layer_norm1.forward(x);
        var q = self_attn.q_proj.forward(h).view(B, T, heads, d).transpose(1, 2);
        var k = self_attn.k_proj.forward(h).view(B, T, heads, d).transpose(1, 2);
        var v = self_attn.v_proj.forward(h).view(B, T, heads, d).transpose(1, 2);
        var a = nn.functional.scaled_dot_product_attention(q, k, v, mask).transpose(1, 2).reshape(B, T, D);
        x = x + self_attn.out_proj.forward(a);
        // 2. MLP with quick-GELU: z·σ(1.702 z)
        var z = mlp.fc1.forward(layer_norm2.forward(x));
        x = x + mlp.fc2.forward(z * (z * 1.702).sigmoid());
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>Output of the text tower: per-token states (the UNet's context) and the pooled end-of-text state.</summary>
public sealed record TextEncoding(Tensor last_hidden_state, Tensor pooled) : IDisposable
{
    public void Dispose() { last_hidden_state.Dispose(); pooled.Dispose(); }
}

/// <summary>Token and position embeddings (HF's CLIPTextEmbeddings), initialised N(0, 0.02²) and N(0, 0.01²).</summary>
public sealed class ClipTextEmbeddings : nn.Module
{
    public readonly Embedding token_embedding, position_embedding;
    public ClipTextEmbeddings(TextEncoderConfig c) : base(nameof(ClipTextEmbeddings))
    {
        token_embedding = nn.Embedding(c.vocab_size, c.hidden_size);
        position_embedding = nn.Embedding(c.max_position_embeddings, c.hidden_size);
        using (no_grad())
        {
            token_embedding.weight!.normal_(0, 0.02);
            position_embedding.weight!.normal_(0, 0.01);
        }
        RegisterComponents();
    }
}

/// <summary>The stack of layers (HF's CLIPEncoder).</summary>
public sealed class ClipEncoder : nn.Module
{
    public readonly ModuleList<ClipEncoderLayer> layers;
    public ClipEncoder(TextEncoderConfig c) : base(nameof(ClipEncoder))
    {
        layers = nn.ModuleList(Enumerable.Range(0, c.num_hidden_layers).Select(_ => new ClipEncoderLayer(c)).ToArray());
        RegisterComponents();
    }
}

/// <summary>Embeddings → causal encoder → final layer norm (HF's CLIPTextTransformer, the `text_model` of the keys).</summary>
public sealed class ClipTextTransformer : nn.Module
{
    public readonly ClipTextEmbeddings embeddings;
    public readonly ClipEncoder encoder;
    public readonly LayerNorm final_layer_norm;
    public ClipTextTransformer(TextEncoderConfig c) : base(nameof(ClipTextTransformer))
    {
        embeddings = new ClipTextEmbeddings(c);
        encoder = new ClipEncoder(c);
        final_layer_norm = nn.LayerNorm(c.hidden_size, c.layer_norm_eps);
        RegisterComponents();
    }
}

public sealed class ClipTextModel : nn.Module
{
    public readonly TextEncoderConfig config;
    public readonly ClipTextTransformer text_model;

    public ClipTextModel(TextEncoderConfig config) : base(nameof(ClipTextModel))
    {
        this.config = config;
        text_model = new ClipTextTransformer(config);
        RegisterComponents();
    }

    /// <param name="input_ids">(B, T) int64 token ids, padded to the context length.</param>
    /// <param name="eos_index">(B) int64 position of the end-of-text token of each row (for the pooled output).</param>
    public TextEncoding forward(Tensor input_ids, Tensor eos_index)
    {
        using var scope = NewDisposeScope();
        long B = input_ids.size(0), T = input_ids.size(1);
        if (T > config.max_position_embeddings)
            throw new ArgumentException($"text encoder: {T} tokens exceed the context length {config.max_position_embeddings}");
        var m = text_model;
        // 1. embeddings                                                                 // (B, T, D)
        var positions = arange(T, device: input_ids.device);
        var x = m.embeddings.token_embedding.forward(input_ids) + m.embeddings.position_embedding.forward(positions).unsqueeze(0);
        // 2. causal transformer: token i sees tokens ≤ i, as in CLIP
        var mask = ones([T, T], ScalarType.Bool, input_ids.device).tril().reshape(1, 1, T, T);
        foreach (var layer in m.encoder.layers) x = layer.forward(x, mask);
        // 3. final norm; pooled = the state at each row's end-of-text token               // (B, D)
        x = m.final_layer_norm.forward(x);
        var pooled = x.gather(1, eos_index.reshape(B, 1, 1).expand(B, 1, x.size(2))).squeeze(1);
        return new TextEncoding(x.MoveToOuterDisposeScope(), pooled.MoveToOuterDisposeScope());
    }

    /// <summary>A deep copy with its own parameters.</summary>
    public ClipTextModel Clone() => this.Clone(() => new ClipTextModel(config));
}
