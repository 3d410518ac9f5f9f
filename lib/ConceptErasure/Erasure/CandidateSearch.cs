// CandidateSearch.cs — the candidate set R_e that Adversarial Preservation searches for each erased concept.
//
// Purpose. Bui et al. (NeurIPS 2024) search the adversarial concept c_a over a vocabulary (3,000 English words in
// their experiments) with a Gumbel-Softmax over all of it — which needs every candidate's embedding in memory at
// once, so the official code first shortens the list per erased concept c_e:
//   1. score each vocabulary word w by the L2 distance between the flattened text-encoder outputs,
//      d(w) = ‖vec τ(w) − vec τ(c_e)‖₂ (S·D numbers each; the paper's blog says cosine, the code uses L2);
//   2. keep the K nearest words;
//   3. run 1-D k-means with N centres on those K distances and keep, per centre, the word whose distance is nearest
//      to it — at most N candidates spread over the whole similarity range, not only the nearest N.
// Unlike the released code, c_e itself (and every other concept being erased) is excluded: preserving the concept
// one erases would fight the erasure (the follow-up paper points this out). The k-means here is deterministic
// (quantile initialisation, Lloyd iterations to convergence), so a seed-free run gives the same set every time.
using ConceptErasure.Data;
using ConceptErasure.Models;
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Erasure;

/// <summary>A vocabulary word with its distance to the erased concept in text-encoder space.</summary>
public sealed record Candidate(string Word, double Distance);

/// <summary>The candidates of one erased concept, nearest first, and how many words k-means clustered.</summary>
public sealed record CandidateSet(string Concept, IReadOnlyList<Candidate> Candidates, int Clustered)
{
    public IReadOnlyList<string> Words => Candidates.Select(c => c.Word).ToList();
}

public static class CandidateSearch
{
    // ---- vocabularies R -----------------------------------------------------------------------------------------
    /// <summary>The search vocabulary of the emoji world (distinct words of the trained concepts' names, the analogue
    /// of the paper's 3,000-word list), restricted to words the tokenizer knows.</summary>
    public static IReadOnlyList<string> SearchWords(EmojiIndex index, WordTokenizer tokenizer, EmojiSelection? selection = null)
        => ConceptSets.SearchVocabulary(index, selection).Where(w => tokenizer.Encode(w).Unknown.Count == 0).ToList();

    /// <summary>Whole concept names as the vocabulary (multi-word prompts such as "delivery truck").</summary>
    public static IReadOnlyList<string> ConceptNames(EmojiIndex index, WordTokenizer tokenizer, EmojiSelection? selection = null)
        => index.Select(selection).Select(c => c.Name).Distinct(StringComparer.Ordinal)
            .Where(n => tokenizer.Encode(n) is { Unknown.Count: 0, Truncated: false }).ToList();

    // ---- 1. embeddings and distances ----------------------------------------------------------------------------
    /// <summary>τ(w) for every word, (V, S, D), without gradient and without filling the prompt cache.</summary>
    public static Tensor Embed(FoundationModel model, IReadOnlyList<string> words, int batch = 256)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var parts = new List<Tensor>();
        for (var i = 0; i < words.Count; i += batch)
        {
            var chunk = words.Skip(i).Take(batch).ToList();
            var (ids, eos) = model.Prompts.Tokenize(chunk);
            using var enc = model.TextEncoder.forward(ids, eos);
            parts.Add(enc.last_hidden_state.clone());
        }
        return torch.cat(parts).MoveToOuterDisposeScope();
    }

    /// <summary>d(w) = ‖vec τ(w) − vec τ(c)‖₂ for every row of embeddings (V, S, D) against target (1, S, D).</summary>
    public static double[] Distances(Tensor embeddings, Tensor target)
    {
        using var scope = NewDisposeScope();
        var flat = embeddings.flatten(1);                                        // (V, S·D)
        var c = target.flatten(1);                                               // (1, S·D)
        return (flat - c).norm(1).ToDoubles();                            // (V)
    }

    // ---- 2–3. K nearest, thinned by 1-D k-means ---------------------------------------------------------------------
    /// <summary>The candidate set of <paramref name="concept"/>: the K vocabulary words nearest to it (ties: vocabulary
    /// order), excluding every word that encodes like a concept in <paramref name="exclude"/> (c_e itself included),
    /// thinned to ≤ N by k-means on their distances.</summary>
    public static CandidateSet Find(FoundationModel model, string concept, IReadOnlyList<string> vocabulary,
        IEnumerable<string> exclude, int k, int n)
    {
        if (k < 1 || n < 1 || n > k) throw new ArgumentOutOfRangeException(nameof(n), $"need 1 ≤ N ≤ K, got K = {k}, N = {n}");
        string Key(string text) => string.Join(",", model.Tokenizer.Encode(text).Ids);
        var excluded = exclude.Append(concept).Select(Key).ToHashSet();
        var words = vocabulary.Distinct(StringComparer.Ordinal).Where(w => !excluded.Contains(Key(w))).ToList();
        if (words.Count == 0) throw new ArgumentException($"the vocabulary has no word left to preserve for '{concept}' once the erased concepts are excluded");

        using var scope = NewDisposeScope();
        var distances = Distances(Embed(model, words), model.Prompts.Encode(concept));
        var nearest = Enumerable.Range(0, words.Count).OrderBy(i => distances[i]).ThenBy(i => i).Take(k).ToList();
        var kept = KMeansThin(nearest.Select(i => distances[i]).ToList(), n);
        var candidates = kept.Select(j => new Candidate(words[nearest[j]], distances[nearest[j]])).ToList();
        return new CandidateSet(concept, candidates, nearest.Count);
    }

    /// <summary>1-D k-means with <paramref name="centres"/> centres over the values; returns, for each non-empty
    /// cluster, the index of the value nearest its centre (ties: the smaller value, then the lower index), in
    /// increasing order of value. Deterministic: centres start at the values at the quantiles (j + ½)/n of the
    /// sorted list and move by Lloyd iterations until no value changes cluster.</summary>
    public static IReadOnlyList<int> KMeansThin(IReadOnlyList<double> values, int centres)
    {
        if (centres < 1) throw new ArgumentOutOfRangeException(nameof(centres), "need at least one centre");
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ThenBy(i => i).ToArray();
        var sorted = order.Select(i => values[i]).ToArray();
        var m = sorted.Length;
        if (m == 0) return [];
        var n = Math.Min(centres, m);
        // 1. centres at the quantiles of the sorted values
        var centre = Enumerable.Range(0, n).Select(j => sorted[Math.Min(m - 1, (int)((j + 0.5) * m / n))]).ToArray();
        var assign = new int[m];
        Array.Fill(assign, -1);
        for (var iteration = 0; iteration < 1000; iteration++)
        {
            // 2. assign each value to its nearest centre (ties: the lower centre)
            var changed = false;
            for (var i = 0; i < m; i++)
            {
                var best = 0;
                for (var j = 1; j < n; j++)
                    if (Math.Abs(sorted[i] - centre[j]) < Math.Abs(sorted[i] - centre[best])) best = j;
                if (assign[i] != best) { assign[i] = best; changed = true; }
            }
            if (!changed) break;
            // 3. move each centre to the mean of its values (an empty cluster keeps its centre)
            for (var j = 0; j < n; j++)
            {
                double sum = 0; var count = 0;
                for (var i = 0; i < m; i++) if (assign[i] == j) { sum += sorted[i]; count++; }
                if (count > 0) centre[j] = sum / count;
            }
        }
        // 4. per non-empty cluster, the value nearest its centre
        var kept = new SortedSet<int>();
        for (var j = 0; j < n; j++)
        {
            var best = -1;
            for (var i = 0; i < m; i++)
                if (assign[i] == j && (best < 0 || Math.Abs(sorted[i] - centre[j]) < Math.Abs(sorted[best] - centre[j]))) best = i;
            if (best >= 0) kept.Add(best);
        }
        return kept.Select(i => order[i]).ToList();
    }
}
