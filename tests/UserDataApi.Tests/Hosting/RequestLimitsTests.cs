using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using UserDataApi.Intents;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.Hosting;

/// <summary>
/// SPEC §7 on a real Kestrel (the in-process test server has no body or header limits of its own):
/// bodies over 1 MiB, with or without a length, answer -5 or 400; oversized headers get Kestrel's 431, not a page.
/// </summary>
public sealed class RequestLimitsTests : IAsyncLifetime
{
    private TestAuthority _authority = null!;
    private ServerProcess _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _authority = await TestAuthority.StartAsync();
        _server = ServerProcess.StartBuilt(
            ("ConnectionStrings__UserData", await TestPostgres.CreateDatabaseAsync()),
            ("Database__MigrateOnStartup", "true"),
            ("Auth__Authority", _authority.Issuer),
            ("Auth__RequireHttpsMetadata", "false"));
        _http = new HttpClient { BaseAddress = await _server.WaitUntilListeningAsync(TimeSpan.FromSeconds(60)) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        await _authority.DisposeAsync();
    }

    private HttpRequestMessage Oversized(string path, string scopes, bool chunked)
    {
        var json = $$"""{"identity_provider":"telegram","value_keys":["k"],"padding":"{{new string('x', 2 * 1024 * 1024)}}"}""";
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _authority.CreateToken(scopes: scopes));
        request.Headers.TransferEncodingChunked = chunked;
        return request;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_over_1_mib_answers_minus_5_on_user_data_calls_and_400_on_intent_calls(bool chunked)
    {
        // Several rounds: a server that answers while the client is still sending, and then closes, makes
        // some of them end in a connection reset instead of the answer.
        for (var round = 0; round < 8; round++)
        {
            using var userData = await _http.SendAsync(Oversized("/user-data/by-idp/get", "email user-data-get", chunked));
            using var intent = await _http.SendAsync(Oversized("/v2/idp_intents", "idp-intents", chunked));

            Assert.Equal(HttpStatusCode.OK, userData.StatusCode);
            Assert.Equal((int)ByIdpResultCode.InvalidParameters, JsonDocument.Parse(await userData.Content.ReadAsStringAsync()).RootElement.GetProperty("result").GetInt32());
            Assert.Equal(HttpStatusCode.BadRequest, intent.StatusCode);
            Assert.Equal(StatusCode.InvalidArgument, (StatusCode)JsonDocument.Parse(await intent.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetInt32());
        }
    }

    [Fact]
    public async Task Headers_over_kestrel_s_limit_get_431_and_no_page()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/user-data/by-idp/get") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Padding", new string('x', 40 * 1024));

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
        Assert.NotEqual("text/html", response.Content.Headers.ContentType?.MediaType);
    }
}
