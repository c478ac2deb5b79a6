using System.Text.Json.Serialization.Metadata;
using UserDataApi.Hosting;

namespace UserDataApi.UserData;

/// <summary>
/// A user-data endpoint's answer to a failure nothing else caught: -4 in the endpoint's own shape (every array
/// present, as the Kotlin and Swift SDKs decode them), HTTP 200. The request's <c>request_id</c> is not known here;
/// <see cref="UserDataPipeline"/> answers every failure it can reach with it.
/// </summary>
public sealed class UserDataErrorAnswer<TResponse, TCode> : IErrorAnswer
    where TResponse : UserDataResponse<TCode>, IUserDataResponse<TResponse, TCode>
    where TCode : struct, Enum
{
    private static readonly JsonTypeInfo<TResponse> Type = (JsonTypeInfo<TResponse>)UserDataJsonContext.Default.GetTypeInfo(typeof(TResponse))!;

    public Task WriteAsync(HttpContext context)
    {
        var answer = TResponse.Answer(null, ResultCodes<TCode>.ServiceTemporarilyNotValid);
        context.RequestServices.GetRequiredService<UserDataMetrics>().Record(context, ResultCodes<TCode>.Number(answer.Result));
        context.Response.StatusCode = StatusCodes.Status200OK;
        return context.Response.WriteJsonAsync(answer, Type);
    }
}
