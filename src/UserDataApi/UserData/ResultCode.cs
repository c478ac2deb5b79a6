namespace UserDataApi.UserData;

// The result-code tables, one per sub-family (SPEC §3.2, §3.4). The codes before a call's own work
// (1, 0, -1 … -5) happen to agree across the three; what comes after differs, so no sub-family borrows
// another's table. The pipeline finds the shared ones by name in each (see ResultCodes<TCode>).

/// <summary>The result codes of the "user data by identity provider" family (SPEC §3.2).</summary>
public enum ByIdpResultCode
{
    SuccessNotFound = 1,
    Success = 0,
    TokenInvalid = -1,
    TokenExpired = -2,
    AccessDenied = -3,
    ServiceTemporarilyNotValid = -4,
    InvalidParameters = -5,
    IdentityProviderNotFound = -6,
    /// <summary>get: more keys than <c>UserData:MaxKeysPerRequest</c>.</summary>
    KeysSizeLimitReached = -7,
    /// <summary>set / delete: the key belongs to another client app.</summary>
    KeyAccessDenied = -7,
    KeyInvalid = -8,
}

/// <summary>The result codes of the "user data by user id" family (SPEC §3.4).</summary>
public enum ByUserIdResultCode
{
    SuccessNotFound = 1,
    Success = 0,
    TokenInvalid = -1,
    TokenExpired = -2,
    AccessDenied = -3,
    ServiceTemporarilyNotValid = -4,
    InvalidParameters = -5,
    /// <summary>get: more keys than <c>UserData:MaxKeysPerRequest</c>.</summary>
    KeysSizeLimitReached = -6,
    /// <summary>set: the key belongs to another client app.</summary>
    KeyAccessDenied = -6,
    KeyInvalid = -7,
}

/// <summary>The result codes of the "user data by email" family (SPEC §3.4).</summary>
public enum ByEmailResultCode
{
    SuccessNotFound = 1,
    Success = 0,
    TokenInvalid = -1,
    TokenExpired = -2,
    /// <summary>Also: the token carries no email, or one it marks unverified.</summary>
    AccessDenied = -3,
    ServiceTemporarilyNotValid = -4,
    InvalidParameters = -5,
    /// <summary>get: more keys than <c>UserData:MaxKeysPerRequest</c>.</summary>
    KeysSizeLimitReached = -6,
    /// <summary>set: the key belongs to another client app.</summary>
    KeyAccessDenied = -6,
    KeyInvalid = -7,
}

/// <summary>
/// The codes of one sub-family's table that the shared steps answer, looked up by name in that table, so that
/// a table lacking one fails on first use rather than answering another family's number.
/// </summary>
public static class ResultCodes<TCode> where TCode : struct, Enum
{
    public static readonly TCode SuccessNotFound = Enum.Parse<TCode>(nameof(SuccessNotFound));
    public static readonly TCode Success = Enum.Parse<TCode>(nameof(Success));
    public static readonly TCode TokenInvalid = Enum.Parse<TCode>(nameof(TokenInvalid));
    public static readonly TCode TokenExpired = Enum.Parse<TCode>(nameof(TokenExpired));
    public static readonly TCode AccessDenied = Enum.Parse<TCode>(nameof(AccessDenied));
    public static readonly TCode ServiceTemporarilyNotValid = Enum.Parse<TCode>(nameof(ServiceTemporarilyNotValid));
    public static readonly TCode InvalidParameters = Enum.Parse<TCode>(nameof(InvalidParameters));
    public static readonly TCode KeysSizeLimitReached = Enum.Parse<TCode>(nameof(KeysSizeLimitReached));
    public static readonly TCode KeyAccessDenied = Enum.Parse<TCode>(nameof(KeyAccessDenied));
    public static readonly TCode KeyInvalid = Enum.Parse<TCode>(nameof(KeyInvalid));

    /// <summary>by-idp only: the request names an identity provider that is not in the catalog.</summary>
    public static readonly TCode? IdentityProviderNotFound = Enum.TryParse<TCode>(nameof(IdentityProviderNotFound), out var code) ? code : null;

    /// <summary>The code's number on the wire.</summary>
    public static int Number(TCode code) => System.Runtime.CompilerServices.Unsafe.BitCast<TCode, int>(code);
}
