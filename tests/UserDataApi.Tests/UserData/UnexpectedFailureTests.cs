using System.Text;
using FluentValidation;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using UserDataApi.Auth;
using UserDataApi.Persistence;
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

        var answer = await pipeline.RunAsync<ByIdpGetRequest, GetResponse<ByIdpResultCode>, ByIdpResultCode>(
            http, UserDataFamily.ByIdentityProvider, UserDataJsonContext.Default.ByIdpGetRequest, ScopeSet.Parse("user-data-get"),
            (_, _, _, _) => throw new InvalidOperationException("a fault of ours"));

        Assert.Equal(ByIdpResultCode.ServiceTemporarilyNotValid, answer.Result);
        Assert.Equal(9, answer.RequestId);
        Assert.NotNull(answer.Values);
        Assert.Empty(answer.Values);
    }

    public static TheoryData<string> FaultPlaces => ["token check", "validation"];

    [Theory]
    [MemberData(nameof(FaultPlaces))]
    public async Task A_fault_in_the_token_check_or_in_validation_answers_minus_4_over_http_in_the_endpoint_s_shape(string place)
    {
        await using var api = await new ApiFactory(fixture.Authority, await TestPostgres.CreateDatabaseAsync(), services: services =>
        {
            if (place == "token check")
            {
                services.PostConfigure<JwtBearerOptions>(TokenAuthentication.AuthorityScheme, jwt =>
                    jwt.Events.OnMessageReceived = _ => throw new InvalidOperationException("a fault of ours"));
            }
            else
            {
                services.AddSingleton<IValidator<ListGetRequest>, ThrowingValidator<ListGetRequest>>();
            }
        }).StartedAsync();
        var client = new UserDataClient(api.CreateClient());

        var answer = await client.PostAsync("list-get", new { request_id = 11, identity_provider = "telegram" }, fixture.Authority.CreateToken(UserDataFixture.NewUser()));

        Assert.Equal((int)ByIdpResultCode.ServiceTemporarilyNotValid, answer.Result());
        Assert.Equal(11, answer.GetProperty("request_id").GetInt64());
        Assert.Empty(answer.GetProperty("keys_private").EnumerateArray());
        Assert.Empty(answer.GetProperty("keys_public").EnumerateArray());
    }

    private sealed class ThrowingValidator<T> : FluentValidation.AbstractValidator<T>
    {
        public override FluentValidation.Results.ValidationResult Validate(FluentValidation.ValidationContext<T> context) =>
            throw new InvalidOperationException("a fault of ours");
    }
}
