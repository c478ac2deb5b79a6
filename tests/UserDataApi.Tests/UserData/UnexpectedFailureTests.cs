using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using UserDataApi.Auth;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.UserData;

/// <summary>
/// SPEC §3: whatever goes wrong inside an endpoint's own work is still an answer of the contract, -4
/// in that endpoint's shape (its arrays, the caller's request_id), never a bare error body.
/// </summary>
public sealed class UnexpectedFailureTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    [Fact]
    public async Task A_fault_in_the_endpoints_work_answers_minus_4_with_the_request_id_and_empty_values()
    {
        await using var scope = fixture.Api.Services.CreateAsyncScope();
        var http = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        http.Request.Method = "POST";
        http.Request.ContentType = "application/json";
        http.Request.Headers.Authorization = "Bearer " + fixture.Authority.CreateToken(UserDataFixture.NewUser());
        http.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes("""{"request_id":9,"identity_provider":"telegram","value_keys":["k"]}"""));
        var pipeline = scope.ServiceProvider.GetRequiredService<UserDataPipeline>();

        var answer = await pipeline.RunAsync<GetRequest, GetResponse>(http, UserDataJsonContext.Default.GetRequest, ScopeSet.Parse("user-data-get"),
            (_, _, _) => throw new InvalidOperationException("a fault of ours"));

        Assert.Equal(ResultCode.ServiceTemporarilyNotValid, answer.Result);
        Assert.Equal(9, answer.RequestId);
        Assert.NotNull(answer.Values);
        Assert.Empty(answer.Values);
    }
}
