// PromptEncoder.cs — prompts → token ids → the frozen text encoder's per-token states c = τ(prompt), the
// conditioning every UNet call and every erasure loss takes. Encodings are cached per prompt string, since
// erasure and evaluation query the same few prompts thousands of times.
using ConceptErasure.Data;
using ConceptErasure.Models;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Pipelines;

public sealed class PromptEncoder : IDisposable
{
    readonly Dictionary<string, Tensor> cache = new(StringComparer.Ordinal);
    public WordTokenizer Tokenizer { get; }
    public ClipTextModel Text { get; }
    /// <summary>Unknown words are an error (true) or encoded as &lt;unk&gt; (false).</summary>
    public bool Strict { get; init; } = true;

    public PromptEncoder(WordTokenizer tokenizer, ClipTextModel text)
    {
        if (tokenizer.VocabularySize > text.config.vocab_size)
            throw new ArgumentException($"tokenizer has {tokenizer.VocabularySize} words, the text encoder only {text.config.vocab_size} embeddings");
        if (tokenizer.ContextLength != text.config.max_position_embeddings)
            throw new ArgumentException($"tokenizer context {tokenizer.ContextLength} ≠ text encoder context {text.config.max_position_embeddings}");
        (Tokenizer, Text) = (tokenizer, text);
    }

    /// <summary>(B, T) ids and (B) end-of-text positions.</summary>
    public (Tensor ids, Tensor eos) Tokenize(IReadOnlyList<string> prompts)
    {
        var items = prompts.Select(p => Strict ? Tokenizer.EncodeStrict(p) : Tokenizer.Encode(p)).ToList();
        var batch = new TokenBatch(items, Tokenizer.ContextLength);
        var device = Text.DeviceOf();
        return (torch.tensor(batch.Ids, batch.Shape, device: device), torch.tensor(batch.Lengths.Select(l => l - 1).ToArray(), device: device));
    }

    /// <summary>c = τ(prompts): (B, T, D) text states, without gradient; cached per prompt.</summary>
    public Tensor Encode(IReadOnlyList<string> prompts)
    {
        var missing = prompts.Where(p => !cache.ContainsKey(p)).Distinct(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var (ids, eos) = Tokenize(missing);
            using var enc = Text.forward(ids, eos);
            for (var i = 0; i < missing.Count; i++)
                cache[missing[i]] = enc.last_hidden_state[i].clone().DetachFromDisposeScope();
        }
        return torch.stack(prompts.Select(p => cache[p]).ToList());
    }

    public Tensor Encode(string prompt) => Encode([prompt]);

    public void ClearCache()
    {
        foreach (var t in cache.Values) t.Dispose();
        cache.Clear();
    }

    public void Dispose() => ClearCache();
}
