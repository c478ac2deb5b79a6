namespace UserDataApi.Persistence;

/// <summary>Who may read a record besides the client app that owns it.</summary>
public enum AccessScope : short
{
    Private = 0,
    Public = 1,
}

/// <summary>
/// The user-data sub-family a record belongs to (SPEC §3.4). Each is a namespace of its own: the family is
/// part of a record's identity, so that no key written through one family can reach another's records.
/// </summary>
public enum UserDataFamily : short
{
    ByIdentityProvider = 0,
    ByUserId = 1,
    ByEmail = 2,
}

/// <summary>
/// One stored value, identified by (user, family, identity provider, key) and owned by one client app. The
/// user is the token's <c>sub</c>, or under <see cref="UserDataFamily.ByEmail"/> its verified email; the identity
/// provider is empty outside <see cref="UserDataFamily.ByIdentityProvider"/>.
/// </summary>
public sealed class UserDataRecord
{
    public long Id { get; set; }
    public UserDataFamily Family { get; set; }
    public required string UserId { get; set; }
    public required string IdentityProvider { get; set; }
    public required string Key { get; set; }
    public required string Value { get; set; }
    public AccessScope AccessScope { get; set; }
    public required string ClientAppId { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}
