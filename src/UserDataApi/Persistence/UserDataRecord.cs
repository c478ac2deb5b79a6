namespace UserDataApi.Persistence;

/// <summary>Who may read a record besides the client app that owns it.</summary>
public enum AccessScope : short
{
    Private = 0,
    Public = 1,
}

/// <summary>One stored value, identified by (user, identity provider, key) and owned by one client app.</summary>
public sealed class UserDataRecord
{
    public long Id { get; set; }
    public required string UserId { get; set; }
    public required string IdentityProvider { get; set; }
    public required string Key { get; set; }
    public required string Value { get; set; }
    public AccessScope AccessScope { get; set; }
    public required string ClientAppId { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}
