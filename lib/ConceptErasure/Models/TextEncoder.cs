// TextEncoder.cs — the CLIP text transformer (Radford et al. 2021) in miniature: token + position embeddings,
// pre-norm transformer layers with a causal mask, a final layer norm. Its per-token hidden states are the
// conditioning c that the UNet cross-attends to, exactly as Stable Diffusion uses CLIP ViT-L/14's text tower;
// the state at the end-of-text token, projected, is the sentence embedding CLIP is trained with.
//
// Parameter names follow Hugging Face's CLIPTextModel (text_model.embeddings.token_embedding.weight,
// text_model.encoder.layers.0.self_attn.q_proj.weight, …).
using ConceptErasure.Torch;
using ConceptErasure.Torch.nn;

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

/// <summary>One pre-norm layer: x + SelfAttn(LN(x)), then x + MLP(LN(x)) with quick-GELU as in CLIP.</summary>
public sealed class ClipEncoderLayer : Module
{
    readonly int heads;
    public readonly Linear q_proj, k_proj, v_proj, out_proj;
    public readonly LayerNorm layer_norm1, layer_norm2;
    public readonly Linear fc1, fc2;

    public ClipEncoderLayer(TextEncoderConfig c)
    {
        heads = c.num_attention_heads;
        var attn = register_module("self_attn", new AttentionProjections(c.hidden_size));
        (q_proj, k_proj, v_proj, out_proj) = (attn.q_proj, attn.k_proj, attn.v_proj, attn.out_proj);
        layer_norm1 = register_module("layer_norm1", new LayerNorm(c.hidden_size, c.layer_norm_eps));
        var mlp = register_module("mlp", new Mlp(c.hidden_size, c.intermediate_size));
        (fc1, fc2) = (mlp.fc1, mlp.fc2);
        layer_norm2 = register_module("layer_norm2", new LayerNorm(c.hidden_size, c.layer_norm_eps));
        config = c;
    }
    readonly TextEncoderConfig config;

    /// <param name="x">(B, T, D)</param><param name="mask">(1, 1, T, T) bool, true = may attend</param>
    public Tensor forward(Tensor x, Tensor mask)
    {
        using var scope = torch.NewDisposeScope();
        long B = x.size(0), T = x.size(1), D = x.size(2), d = D / heads;
        // 1. self-attention, pre-norm                                                  // (B, heads, T, d)
        var h = layer_norm1.forward(x);
        var q = q_proj.forward(h).view(B, T, heads, d).transpose(1, 2);
        var k = k_proj.forward(h).view(B, T, heads, d).transpose(1, 2);
        var v = v_proj.forward(h).view(B, T, heads, d).transpose(1, 2);
        var a = F.scaled_dot_product_attention(q, k, v, mask).transpose(1, 2).reshape(B, T, D);
        x = x + out_proj.forward(a);
        // 2. MLP with quick-GELU: z·σ(1.702 z)
        var z = fc1.forward(layer_norm2.forward(x));
        x = x + fc2.forward(z * (z * 1.702).sigmoid());
        return x.MoveToOuterScope();
    }

    protected override Module CloneModule() => new ClipEncoderLayer(config);

    sealed class AttentionProjections : Module
    {
        public readonly Linear q_proj, k_proj, v_proj, out_proj;
        readonly long width;
        public AttentionProjections(long width)
        {
            this.width = width;
            k_proj = register_module("k_proj", new Linear(width, width));
            v_proj = register_module("v_proj", new Linear(width, width));
            q_proj = register_module("q_proj", new Linear(width, width));
            out_proj = register_module("out_proj", new Linear(width, width));
        }
        protected override Module CloneModule() => new AttentionProjections(width);
    }
    sealed class Mlp : Module
    {
        public readonly Linear fc1, fc2;
        readonly long width, inner;
        public Mlp(long width, long inner)
        {
            (this.width, this.inner) = (width, inner);
            fc1 = register_module("fc1", new Linear(width, inner));
            fc2 = register_module("fc2", new Linear(inner, width));
        }
        protected override Module CloneModule() => new Mlp(width, inner);
    }
}

/// <summary>Output of the text tower: per-token states (the UNet's context) and the pooled end-of-text state.</summary>
public sealed record TextEncoding(Tensor last_hidden_state, Tensor pooled) : IDisposable
{
    public void Dispose() { last_hidden_state.Dispose(); pooled.Dispose(); }
}

public sealed class ClipTextModel : Module
{
    public readonly TextEncoderConfig config;
    public readonly Embedding token_embedding, position_embedding;
    public readonly ModuleList<ClipEncoderLayer> layers;
    public readonly LayerNorm final_layer_norm;

    public ClipTextModel(TextEncoderConfig config)
    {
        this.config = config;
        var text = register_module("text_model", new Holder());
        var emb = text.Add("embeddings", new Holder());
        token_embedding = emb.Add("token_embedding", new Embedding(config.vocab_size, config.hidden_size, std: 0.02));
        position_embedding = emb.Add("position_embedding", new Embedding(config.max_position_embeddings, config.hidden_size, std: 0.01));
        var encoder = text.Add("encoder", new Holder());
        layers = encoder.Add("layers", new ModuleList<ClipEncoderLayer>(Enumerable.Range(0, config.num_hidden_layers).Select(_ => new ClipEncoderLayer(config))));
        final_layer_norm = text.Add("final_layer_norm", new LayerNorm(config.hidden_size, config.layer_norm_eps));
    }

    /// <param name="input_ids">(B, T) int64 token ids, padded to the context length.</param>
    /// <param name="eos_index">(B) int64 position of the end-of-text token of each row (for the pooled output).</param>
    public TextEncoding forward(Tensor input_ids, Tensor eos_index)
    {
        using var scope = torch.NewDisposeScope();
        long B = input_ids.size(0), T = input_ids.size(1);
        if (T > config.max_position_embeddings)
            throw new ArgumentException($"text encoder: {T} tokens exceed the context length {config.max_position_embeddings}");
        // 1. embeddings                                                                 // (B, T, D)
        var positions = torch.arange(T, device: input_ids.device);
        var x = token_embedding.forward(input_ids) + position_embedding.forward(positions).unsqueeze(0);
        // 2. causal transformer: token i sees tokens ≤ i, as in CLIP
        var mask = torch.ones([T, T], ScalarType.Bool, input_ids.device).tril().reshape(1, 1, T, T);
        foreach (var layer in layers) x = layer.forward(x, mask);
        // 3. final norm; pooled = the state at each row's end-of-text token               // (B, D)
        x = final_layer_norm.forward(x);
        var pooled = x.gather(1, eos_index.reshape(B, 1, 1).expand(B, 1, x.size(2))).squeeze(1);
        return new TextEncoding(x.MoveToOuterScope(), pooled.MoveToOuterScope());
    }

    protected override Module CloneModule() => new ClipTextModel(config);
}

/// <summary>A module that only groups children under a name (text_model, embeddings, encoder, …).</summary>
public sealed class Holder : Module
{
    public T Add<T>(string name, T module) where T : Module => register_module(name, module);
    protected override Module CloneModule() => throw new NotSupportedException("a Holder is cloned by its owner");
}
