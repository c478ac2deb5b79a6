namespace UserDataApi.Auth;

/// <summary>A set of OAuth scopes, parsed from a space-separated setting or from a token's claims.</summary>
public sealed class ScopeSet
{
    private readonly HashSet<string> _scopes;

    private ScopeSet(HashSet<string> scopes) => _scopes = scopes;

    public IReadOnlyCollection<string> Scopes => _scopes;

    public static ScopeSet Parse(string? spaceSeparated) => FromValues(spaceSeparated is null ? [] : [spaceSeparated]);

    /// <summary>Each value may itself hold several space-separated scopes (the <c>scope</c> claim does).</summary>
    public static ScopeSet FromValues(IEnumerable<string> values)
    {
        var scopes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            foreach (var scope in value.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                scopes.Add(scope);
            }
        }
        return new ScopeSet(scopes);
    }

    public bool Covers(ScopeSet required) => _scopes.IsSupersetOf(required._scopes);

    public override string ToString() => string.Join(' ', _scopes);
}
