using System.Security.Cryptography;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.Auth;

/// <summary>
/// In Development with `dotnet user-jwts` keys configured, the scheme is picked by reading the token's
/// issuer; a bearer value shaped like a JWT but holding none is still "token invalid" (SPEC §3: -1), not a fault.
/// </summary>
public sealed class DevelopmentTokenTests
{
    [Theory]
    [InlineData("a.b.c")]
    [InlineData("e30.e30.")]
    [InlineData("!!!.???.***")]
    public async Task A_bearer_value_shaped_like_a_jwt_but_not_one_answers_minus_1(string token)
    {
        await using var authority = await TestAuthority.StartAsync();
        await using var api = await new ApiFactory(authority, await TestPostgres.CreateDatabaseAsync(), new Dictionary<string, string?>
        {
            ["environment"] = "Development",
            ["Authentication:Schemes:Bearer:ValidIssuer"] = "dotnet-user-jwts",
            ["Authentication:Schemes:Bearer:SigningKeys:0:Issuer"] = "dotnet-user-jwts",
            ["Authentication:Schemes:Bearer:SigningKeys:0:Value"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        }).StartedAsync();
        var client = new UserDataClient(api.CreateClient());

        var answer = await client.PostAsync("get", new { identity_provider = "telegram", value_keys = new[] { "k" } }, token);

        Assert.Equal((int)ByIdpResultCode.TokenInvalid, answer.Result());
    }
}
