// Suggestions.cs — "did you mean …": the known names closest to a mistyped one, and how a user-given name is shown
// in a message (never kilobytes of it).
namespace ConceptErasure.Data;

public static class Suggestions
{
    /// <summary>The known names closest to <paramref name="value"/> by case-insensitive edit distance (ties: list
    /// order), within half the longer length.</summary>
    public static IReadOnlyList<string> Closest(string value, IEnumerable<string> known, int count)
        => known.Where(k => k.Length > 0)
            .Select((k, i) => (k, i, d: EditDistance(value.ToLowerInvariant(), k.ToLowerInvariant())))
            .Where(x => x.d <= Math.Max(2, Math.Max(value.Length, x.k.Length) / 2))
            .OrderBy(x => x.d).ThenBy(x => x.i).Take(count).Select(x => x.k).ToList();

    /// <summary>Levenshtein distance (insertions, deletions, substitutions of one character cost 1).</summary>
    public static int EditDistance(string a, string b)
    {
        if (a.Length > 200 || b.Length > 200) return Math.Max(a.Length, b.Length);   // a pasted essay is no one's typo
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) prev[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (var j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }

    /// <summary>A user-given name as a message shows it: at most 60 characters.</summary>
    public static string Shown(string name) => name.Length <= 60 ? name : name[..57] + $"… ({name.Length} characters)";
}
