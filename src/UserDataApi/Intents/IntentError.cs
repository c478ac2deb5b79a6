namespace UserDataApi.Intents;

/// <summary>The gRPC status codes (the numbers are the protocol's), in which every intent failure is told.</summary>
public enum StatusCode
{
    Ok = 0,
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
}

/// <summary>
/// One failure of an intent call, as ZITADEL tells its failures: a gRPC status, a stable error id and message key
/// (ZITADEL's own where it fails the same way), and a message for people. <see cref="RetryAfter"/> is set when the
/// caller is asked to wait.
/// </summary>
public sealed record IntentError(StatusCode Code, string Id, string MessageKey, string Message, TimeSpan? RetryAfter = null);

/// <summary>What an intent call comes to: its value, or one <see cref="IntentError"/>.</summary>
public readonly record struct IntentOutcome<T>(T? Value, IntentError? Error)
{
    public static implicit operator IntentOutcome<T>(T value) => new(value, null);

    public static implicit operator IntentOutcome<T>(IntentError error) => new(default, error);
}

/// <summary>Every failure the intent calls can answer, each once, with its id and message key.</summary>
public static class IntentFailures
{
    /// <summary>A body that is not one request of its method: <paramref name="shape"/> says what it must be (SPEC §7: at most 1 MiB).</summary>
    public static IntentError InvalidBody(string shape = "a JSON object") =>
        new(StatusCode.InvalidArgument, "INTENT-Bdy6j2", "Errors.Intent.InvalidRequest", $"the body must be {shape} of at most 1 MiB");

    /// <summary>A request this server does not take on a transport: an unknown method, or a compressed body.</summary>
    public static IntentError Unimplemented(string message) =>
        new(StatusCode.Unimplemented, "INTENT-Unim5p", "Errors.Intent.Unimplemented", message);

    /// <summary>A field of the request that breaks its rules (<see cref="IntentValidation"/>).</summary>
    public static IntentError InvalidArgument(string message) =>
        new(StatusCode.InvalidArgument, "INTENT-Arg4vd", "Errors.Intent.InvalidArgument", message);

    public static IntentError Unauthenticated(string message) =>
        new(StatusCode.Unauthenticated, "AUTH-7fs1e", "Errors.Token.Invalid", message);

    public static IntentError TokenExpired() =>
        new(StatusCode.Unauthenticated, "AUTH-Ex9qa", "Errors.Token.Expired", "the token has expired");

    public static IntentError ScopeMissing(string scope) =>
        new(StatusCode.PermissionDenied, "AUTH-Sc3pe", "Errors.Token.ScopeMissing", $"the token lacks the scope '{scope}'");

    public static IntentError AuthorityUnavailable() =>
        new(StatusCode.Unavailable, "AUTH-Au8nv", "Errors.Token.AuthorityUnavailable", "the token authority cannot be reached");

    public static IntentError TooManyRequests(TimeSpan? retryAfter) =>
        new(StatusCode.ResourceExhausted, "QUOTA-Rq5tm", "Errors.Quota.RequestsExhausted", "too many requests", retryAfter);

    public static IntentError TooManyFailedAuthentications(TimeSpan? retryAfter) =>
        new(StatusCode.ResourceExhausted, "QUOTA-Fa2ld", "Errors.Quota.FailedAuthenticationsExhausted", "too many failed authentications from this address", retryAfter);

    public static IntentError ProviderNotFound(string idpId) =>
        new(StatusCode.NotFound, "COMMAND-Idp0nf", "Errors.IDPConfig.NotExisting", $"identity provider '{idpId}' is not configured");

    /// <summary>SPEC §4.4: a wrong password, no entry, several entries or an empty password, all alike: nothing says which.</summary>
    public static IntentError LdapSignInFailed() =>
        new(StatusCode.InvalidArgument, "LDAP-Lgn4fd", "Errors.Intent.LDAPSignInFailed", "the username or password is not valid");

    public static IntentError DirectoryUnavailable() =>
        new(StatusCode.Unavailable, "LDAP-Unv8dr", "Errors.Intent.DirectoryUnavailable", "the directory cannot be reached");

    public static IntentError TooManyPasswordAttempts(TimeSpan? retryAfter) =>
        new(StatusCode.ResourceExhausted, "QUOTA-Pwd7at", "Errors.Quota.PasswordAttemptsExhausted", "too many password attempts for this username", retryAfter);

    public static IntentError ProviderUnavailable() =>
        new(StatusCode.Unavailable, "INTENT-Prv3un", "Errors.Intent.ProviderUnavailable", "the identity provider cannot be reached");

    public static IntentError CannotSeal() =>
        new(StatusCode.Unavailable, "INTENT-Sl7cnt", "Errors.Intent.SealUnavailable", "the server cannot seal the intent's secrets now");

    public static IntentError CannotOpen() =>
        new(StatusCode.Unavailable, "INTENT-Opn8cn", "Errors.Intent.SealUnavailable", "the intent's sealed tokens cannot be opened");

    public static IntentError IntentNotFound() =>
        new(StatusCode.NotFound, "INTENT-Nf2wkq", "Errors.Intent.NotFound", "intent not found");

    public static IntentError InvalidIntentToken() =>
        new(StatusCode.PermissionDenied, "CRYPTO-CRYPTO", "Errors.Intent.InvalidToken", "the intent token does not match");

    public static IntentError NotSucceeded(bool failed) =>
        new(StatusCode.FailedPrecondition, "IDP-nme4gszsvx", "Errors.Intent.NotSucceeded", failed ? "the intent has failed" : "the intent has not succeeded yet");

    public static IntentError Expired() =>
        new(StatusCode.FailedPrecondition, "IDP-SAf42", "Errors.Intent.Expired", "the intent has expired");

    public static IntentError AlreadyRetrieved() =>
        new(StatusCode.FailedPrecondition, "INTENT-Rtv5cn", "Errors.Intent.AlreadyRetrieved", "the intent was consumed by its first retrieve under an earlier version of this server");

    public static IntentError StateMissing() =>
        new(StatusCode.InvalidArgument, "INTENT-Stt1mq", "Errors.Intent.StateMissing", "state is missing");

    public static IntentError StateUnknown() =>
        new(StatusCode.InvalidArgument, "INTENT-Stt2kx", "Errors.Intent.StateUnknown", "state does not belong to any intent");

    public static IntentError CallbackUnreadable(string message) =>
        new(StatusCode.InvalidArgument, "INTENT-Clb4fr", "Errors.Intent.InvalidCallback", message);

    public static IntentError LinksNotYours(string adminScope) =>
        new(StatusCode.PermissionDenied, "AUTHZ-Lnk7dn", "Errors.PermissionDenied",
            $"only the user itself, or a caller with the scope '{adminScope}', may manage a user's links");

    public static IntentError LinkExists() =>
        new(StatusCode.AlreadyExists, "COMMAND-Lnk9ex", "Errors.User.ExternalIDP.AlreadyExists", "this provider account is already linked");

    public static IntentError LinkNotFound() =>
        new(StatusCode.NotFound, "COMMAND-Lnk3nf", "Errors.User.ExternalIDP.NotFound", "link not found");

    /// <summary>A failure nothing else caught (the database away, say).</summary>
    public static IntentError Unavailable() =>
        new(StatusCode.Unavailable, "INTENT-Unv3av", "Errors.Internal", "service temporarily unavailable");
}
