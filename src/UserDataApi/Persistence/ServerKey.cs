namespace UserDataApi.Persistence;

/// <summary>
/// Secret key material the server generates once and keeps in PostgreSQL, so that every instance
/// behind a load balancer signs and checks with the same key.
/// </summary>
public sealed class ServerKey
{
    public required string Name { get; set; }
    public required byte[] Material { get; set; }
    public DateTime CreatedAt { get; set; }
}
