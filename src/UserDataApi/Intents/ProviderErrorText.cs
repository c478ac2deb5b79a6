using System.Text;

namespace UserDataApi.Intents;

/// <summary>
/// What a provider says when it fails a login (<c>error</c>, <c>error_description</c>), made safe to log, store and
/// pass on: control characters (CR and LF among them, which would forge log lines) and line separators become
/// spaces, and the text is cut to a bound, since whoever sends the browser to the callback chooses it.
/// </summary>
public static class ProviderErrorText
{
    /// <summary>OAuth error codes are a few words joined by underscores.</summary>
    public const int MaxErrorLength = 128;

    public const int MaxDescriptionLength = 1024;

    public static string Error(string? text) => Clean(text, MaxErrorLength);

    public static string Description(string? text) => Clean(text, MaxDescriptionLength);

    private static string Clean(string? text, int maxCharacters)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }
        var clean = new StringBuilder(Math.Min(text.Length, maxCharacters));
        var characters = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (++characters > maxCharacters)
            {
                break;
            }
            var unsafeRune = Rune.IsControl(rune) || rune.Value is 0x2028 or 0x2029 || Rune.GetUnicodeCategory(rune) == System.Globalization.UnicodeCategory.Format;
            clean.Append(unsafeRune ? " " : rune.ToString());
        }
        return clean.ToString();
    }
}
