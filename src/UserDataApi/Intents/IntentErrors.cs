using Microsoft.AspNetCore.Http.HttpResults;
using UserDataApi.Hosting;

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

    /// <summary>429 with <c>Retry-After</c> (whole seconds, at least 1).</summary>
    public static JsonHttpResult<GatewayError> TooManyRequests(HttpContext http, TimeSpan? retryAfter, string message)
    {
        http.Response.Headers.RetryAfter = Math.Max(1, Math.Ceiling(retryAfter?.TotalSeconds ?? 1)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return ResourceExhausted(message);
    }

    private static JsonHttpResult<GatewayError> Error(int status, int code, string message) =>
        TypedResults.Json(new GatewayError(code, message, []), IntentJsonContext.Default.GatewayError, statusCode: status);
}

/// <summary>An intent endpoint's answer to a failure nothing else caught: 503 unavailable, in the gateway's error shape.</summary>
public sealed class IntentErrorAnswer : IErrorAnswer
{
    public static readonly IntentErrorAnswer Instance = new();

    public Task WriteAsync(HttpContext context) => IntentErrors.Unavailable("service temporarily unavailable").ExecuteAsync(context);
}
