using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Http.HttpResults;
using UserDataApi.Hosting;
using UserDataApi.Intents.Rpc.Zitadel;

namespace UserDataApi.Intents.Transports;

/// <summary>
/// An <see cref="IntentError"/> as each transport tells it (SPEC §4.1), in this one place: the REST gateway's HTTP
/// status and body, Connect's error JSON, gRPC's status and trailers. Each carries the error id and message key as a
/// <c>zitadel.v1.ErrorDetail</c>, as ZITADEL's do.
/// </summary>
public static class RpcErrors
{
    private const string ErrorDetailType = "type.googleapis.com/zitadel.v1.ErrorDetail";

    /// <summary>The message every transport carries: the text, then the error id.</summary>
    public static string MessageOf(IntentError error) => $"{error.Message} ({error.Id})";

    private static ErrorDetail DetailOf(IntentError error) => new() { Id = error.Id, Message = error.MessageKey };

    // REST gateway

    /// <summary>SPEC §4.1's table of HTTP statuses for the REST gateway.</summary>
    public static int HttpStatusOf(StatusCode code) => code switch
    {
        StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.OutOfRange => StatusCodes.Status400BadRequest,
        StatusCode.Unauthenticated => StatusCodes.Status401Unauthorized,
        StatusCode.PermissionDenied => StatusCodes.Status403Forbidden,
        StatusCode.NotFound => StatusCodes.Status404NotFound,
        StatusCode.AlreadyExists or StatusCode.Aborted => StatusCodes.Status409Conflict,
        StatusCode.ResourceExhausted => StatusCodes.Status429TooManyRequests,
        StatusCode.Cancelled => 499,
        StatusCode.Unimplemented => StatusCodes.Status501NotImplemented,
        StatusCode.DeadlineExceeded => StatusCodes.Status504GatewayTimeout,
        _ => StatusCodes.Status503ServiceUnavailable,
    };

    public static JsonHttpResult<GatewayError> ToRest(this IntentError error) =>
        TypedResults.Json(
            new GatewayError((int)error.Code, MessageOf(error), [new GatewayErrorDetail(ErrorDetailType, error.Id, error.MessageKey)]),
            IntentJsonContext.Default.GatewayError,
            statusCode: HttpStatusOf(error.Code));

    /// <summary>As <see cref="ToRest(IntentError)"/>, and <c>Retry-After</c> (whole seconds, at least 1) when the caller is asked to wait.</summary>
    public static JsonHttpResult<GatewayError> ToRest(this IntentError error, HttpContext http)
    {
        SetRetryAfter(error, http);
        return error.ToRest();
    }

    // Connect

    /// <summary>The Connect protocol's name for a code, and the HTTP status it travels with.</summary>
    public static (string Name, int HttpStatus) ConnectCodeOf(StatusCode code) => code switch
    {
        StatusCode.Cancelled => ("canceled", 499),
        StatusCode.InvalidArgument => ("invalid_argument", 400),
        StatusCode.DeadlineExceeded => ("deadline_exceeded", 504),
        StatusCode.NotFound => ("not_found", 404),
        StatusCode.AlreadyExists => ("already_exists", 409),
        StatusCode.PermissionDenied => ("permission_denied", 403),
        StatusCode.ResourceExhausted => ("resource_exhausted", 429),
        StatusCode.FailedPrecondition => ("failed_precondition", 400),
        StatusCode.Aborted => ("aborted", 409),
        StatusCode.OutOfRange => ("out_of_range", 400),
        StatusCode.Unimplemented => ("unimplemented", 501),
        StatusCode.Unauthenticated => ("unauthenticated", 401),
        _ => ("unavailable", 503),
    };

    public static JsonHttpResult<ConnectError> ToConnect(this IntentError error, HttpContext http)
    {
        SetRetryAfter(error, http);
        var (name, status) = ConnectCodeOf(error.Code);
        var detail = new ConnectErrorDetail(ErrorDetail.Descriptor.FullName, Convert.ToBase64String(DetailOf(error).ToByteArray()).TrimEnd('='));
        return TypedResults.Json(new ConnectError(name, MessageOf(error), [detail]), IntentJsonContext.Default.ConnectError, statusCode: status);
    }

    // gRPC and gRPC-Web

    /// <summary>The status, message and <c>grpc-status-details-bin</c> trailer (a <c>google.rpc.Status</c> with the error detail).</summary>
    public static RpcException ToRpcException(this IntentError error)
    {
        var status = new Google.Rpc.Status { Code = (int)error.Code, Message = MessageOf(error) };
        status.Details.Add(Any.Pack(DetailOf(error)));
        var exception = status.ToRpcException();
        if (error.RetryAfter is { } retryAfter)
        {
            exception.Trailers.Add("retry-after", WholeSeconds(retryAfter));
        }
        return exception;
    }

    private static void SetRetryAfter(IntentError error, HttpContext http)
    {
        if (error.RetryAfter is { } retryAfter)
        {
            http.Response.Headers.RetryAfter = WholeSeconds(retryAfter);
        }
    }

    private static string WholeSeconds(TimeSpan wait) => Math.Max(1, Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>An intent endpoint's answer to a failure nothing else caught: 503 unavailable, in the gateway's error shape.</summary>
public sealed class IntentErrorAnswer : IErrorAnswer
{
    public static readonly IntentErrorAnswer Instance = new();

    public Task WriteAsync(HttpContext context) => IntentFailures.Unavailable().ToRest().ExecuteAsync(context);
}
