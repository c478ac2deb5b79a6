using Microsoft.AspNetCore.Http.HttpResults;

namespace UserDataApi.Intents;

/// <summary>Errors in the REST gateway's shape; the one place gRPC codes meet HTTP status codes.</summary>
public static class IntentErrors
{
    public static JsonHttpResult<GatewayError> InvalidArgument(string message) => Error(StatusCodes.Status400BadRequest, 3, message);
    public static JsonHttpResult<GatewayError> FailedPrecondition(string message) => Error(StatusCodes.Status400BadRequest, 9, message);
    public static JsonHttpResult<GatewayError> Unauthenticated(string message) => Error(StatusCodes.Status401Unauthorized, 16, message);
    public static JsonHttpResult<GatewayError> PermissionDenied(string message) => Error(StatusCodes.Status403Forbidden, 7, message);
    public static JsonHttpResult<GatewayError> NotFound(string message) => Error(StatusCodes.Status404NotFound, 5, message);
    public static JsonHttpResult<GatewayError> AlreadyExists(string message) => Error(StatusCodes.Status409Conflict, 6, message);
    public static JsonHttpResult<GatewayError> ResourceExhausted(string message) => Error(StatusCodes.Status429TooManyRequests, 8, message);
    public static JsonHttpResult<GatewayError> Unavailable(string message) => Error(StatusCodes.Status503ServiceUnavailable, 14, message);

    /// <summary>429 with <c>Retry-After</c>: the caller's address has failed to authenticate too often.</summary>
    public static JsonHttpResult<GatewayError> TooManyFailures(HttpContext http, TimeSpan? retryAfter)
    {
        http.Response.Headers.RetryAfter = Math.Max(1, Math.Ceiling(retryAfter?.TotalSeconds ?? 1)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return ResourceExhausted("too many failed authentications from this address");
    }

    private static JsonHttpResult<GatewayError> Error(int status, int code, string message) =>
        TypedResults.Json(new GatewayError(code, message, []), IntentJsonContext.Default.GatewayError, statusCode: status);
}
