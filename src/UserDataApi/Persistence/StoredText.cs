namespace UserDataApi.Persistence;

/// <summary>What PostgreSQL can store and compare as text: any character but NUL (in text columns, parameters and jsonb).</summary>
public static class StoredText
{
    public static bool IsStorable(string? text) => text is null || !text.Contains('\0');
}
