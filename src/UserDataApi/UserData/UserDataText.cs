namespace UserDataApi.UserData;

/// <summary>The text rules for keys and values, with lengths counted in Unicode characters (a surrogate pair is one).</summary>
/// <remarks>Lone surrogates never get here: the JSON reader refuses them as invalid text (-5).</remarks>
public static class UserDataText
{
    public static bool IsWithin(string text, int maxCharacters)
    {
        // A UTF-16 length within the limit is always fine; only longer strings need counting.
        if (text.Length <= maxCharacters)
        {
            return true;
        }
        var characters = 0;
        foreach (var _ in text.EnumerateRunes())
        {
            if (++characters > maxCharacters)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>-8 rules: 1 to <paramref name="maxCharacters"/> characters, no control characters (NUL included).</summary>
    public static bool IsValidKey(string key, int maxCharacters) =>
        key.Length > 0 && IsWithin(key, maxCharacters) && !key.Any(char.IsControl);
}
