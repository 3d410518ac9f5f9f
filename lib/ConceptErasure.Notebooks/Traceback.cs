// The traceback of a failed cell as it is stored in the notebook: the exception chain and the frames of cell
// and library code, without file paths, line numbers of compiled libraries or the frames of the scripting and
// threading machinery, so that an unchanged failing notebook fails with the same text on every machine.
using System.Diagnostics;

namespace ConceptErasure.Notebooks;

internal static class Traceback
{
    private const int MaxFrames = 20;

    private static readonly string[] HiddenNamespaces =
    {
        "System.Runtime.CompilerServices", "System.Threading", "System.Runtime.ExceptionServices",
        "Microsoft.CodeAnalysis", "Microsoft.DotNet.Interactive",
    };

    /// <summary>"Cell N failed: Type: message", inner exceptions, then up to 20 frames ("at cell N" for the cell's own code).</summary>
    public static List<string> Lines(Exception ex, int cell)
    {
        var lines = new List<string> { $"Cell {cell} failed: {ex.GetType().FullName}: {ex.Message}" };
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
            lines.Add($" ---> {inner.GetType().FullName}: {inner.Message}");
        int shown = 0;
        foreach (var frame in new StackTrace(ex, fNeedFileInfo: false).GetFrames())
        {
            var method = frame.GetMethod();
            var type = method?.DeclaringType;
            if (method is null || type is null) continue;
            var ns = type.Namespace ?? "";
            if (HiddenNamespaces.Any(h => ns.StartsWith(h, StringComparison.Ordinal))) continue;
            var text = IsSubmission(type) ? $"   at cell {cell}" : $"   at {FriendlyName(type)}.{method.Name}";
            if (lines[^1] != text) lines.Add(text);
            if (++shown == MaxFrames) break;
        }
        return lines;
    }

    private static bool IsSubmission(Type type)
    {
        for (var t = type; t is not null; t = t.DeclaringType)
            if ((t.FullName ?? t.Name).StartsWith("Submission#", StringComparison.Ordinal)) return true;
        return false;
    }

    /// <summary>Compiler-generated state machines ("&lt;Method&gt;d__3") read as their declaring type and method.</summary>
    private static string FriendlyName(Type type)
    {
        var name = type.FullName ?? type.Name;
        var angle = name.IndexOf('<');
        if (angle > 0 && type.DeclaringType is not null)
        {
            var close = name.IndexOf('>', angle);
            return (type.DeclaringType.FullName ?? type.DeclaringType.Name) + "." + name[(angle + 1)..(close > angle ? close : name.Length)];
        }
        return name;
    }
}
