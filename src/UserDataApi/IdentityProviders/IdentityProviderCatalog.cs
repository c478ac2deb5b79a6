using System.Collections.Frozen;

namespace UserDataApi.IdentityProviders;

/// <summary>The identity providers records may be filed under; empty until a catalog has loaded once.</summary>
public sealed class IdentityProviderCatalog
{
    private volatile FrozenSet<string>? _names;

    public bool IsLoaded => _names is not null;

    public IReadOnlyCollection<string> Names => _names ?? FrozenSet<string>.Empty;

    /// <summary>Names are compared exactly, case included (SPEC §2).</summary>
    public bool Contains(string name) => _names?.Contains(name) == true;

    public void Replace(IEnumerable<string> names) => _names = names.ToFrozenSet(StringComparer.Ordinal);
}
