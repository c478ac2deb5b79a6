namespace UserDataApi.Persistence;

public enum IntentState : short
{
    Started = 0,
    Succeeded = 1,
    Failed = 2,
    /// <summary>Retrieved once under earlier versions, which allowed one retrieve; no longer written (SPEC §4.2 allows retrieving again).</summary>
    Consumed = 3,
}

/// <summary>One external login in progress or done: what was asked of the provider, and what it returned.</summary>
public sealed class IdpIntent
{
    public required string Id { get; set; }
    public required string IdpId { get; set; }
    public required string ResourceOwner { get; set; }

    /// <summary>The client app (<c>azp</c>, else <c>client_id</c>) that started the intent: the only one that may retrieve it.</summary>
    public required string ClientAppId { get; set; }

    public IntentState State { get; set; }
    public long Sequence { get; set; }

    /// <summary>SHA-256 of the OAuth <c>state</c> parameter, by which the callback finds the intent.</summary>
    public required byte[] StateHash { get; set; }

    /// <summary>The PKCE verifier, encrypted, and the OIDC nonce the ID token must carry (a public value once the browser has it).</summary>
    public required byte[] ProtectedVerifier { get; set; }
    public required string Nonce { get; set; }

    public required string SuccessUrl { get; set; }
    public required string FailureUrl { get; set; }

    /// <summary>SHA-256 of the intent token handed to the success URL; the token itself is never stored.</summary>
    public byte[]? TokenHash { get; set; }

    public string? IdpUserId { get; set; }
    public string? IdpUserName { get; set; }

    /// <summary>The provider's claims as a JSON object.</summary>
    public string? RawInformation { get; set; }

    /// <summary>The provider's access and ID tokens, encrypted.</summary>
    public byte[]? ProtectedAccessToken { get; set; }
    public byte[]? ProtectedIdToken { get; set; }

    /// <summary>An LDAP intent's directory entry, every attribute as JSON (<c>{ name: [values] }</c>), encrypted; null for the redirect flows.</summary>
    public byte[]? ProtectedLdapAttributes { get; set; }

    public string? FailureReason { get; set; }


    public DateTime CreatedAt { get; set; }
    public DateTime ChangedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
}

/// <summary>A provider account (idpId, provider user id) linked to a user of this system.</summary>
public sealed class IdpLink
{
    public required string IdpId { get; set; }
    public required string LinkedUserId { get; set; }
    public required string LinkedUserName { get; set; }
    public required string UserId { get; set; }
    public required string ResourceOwner { get; set; }
    public long Sequence { get; set; }
    public DateTime CreatedAt { get; set; }
}
