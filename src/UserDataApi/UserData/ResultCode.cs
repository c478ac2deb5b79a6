namespace UserDataApi.UserData;

/// <summary>The result codes of the HyperID "user data by identity provider" family (SPEC §3).</summary>
public enum ResultCode
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
