using System.Text.Json;
using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.Hosting;

public sealed class ApiDocumentationTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    [Fact]
    public async Task Swagger_ui_is_served_at_swagger()
    {
        using var response = await fixture.Api.CreateClient().GetAsync("/swagger/index.html");

        response.EnsureSuccessStatusCode();
        Assert.Contains("swagger-ui", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OpenApi_document_describes_get_with_bearer_scheme_schemas_and_result_codes()
    {
        var document = JsonDocument.Parse(await fixture.Api.CreateClient().GetStringAsync("/swagger/v1/swagger.json")).RootElement;

        var bearer = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer");
        Assert.Equal("bearer", bearer.GetProperty("scheme").GetString());
        var get = document.GetProperty("paths").GetProperty("/user-data/by-idp/get").GetProperty("post");
        Assert.Contains("| -7 |", get.GetProperty("description").GetString());
        var requestSchema = Resolve(document, get.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        Assert.True(requestSchema.GetProperty("properties").TryGetProperty("value_keys", out _));
        Assert.True(requestSchema.GetProperty("properties").TryGetProperty("identity_provider", out _));
        var responseSchema = Resolve(document, get.GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        Assert.True(responseSchema.GetProperty("properties").TryGetProperty("values", out _));
        Assert.True(responseSchema.GetProperty("properties").TryGetProperty("result", out _));
    }

    private static JsonElement Resolve(JsonElement document, JsonElement schema)
    {
        if (!schema.TryGetProperty("$ref", out var reference))
        {
            return schema;
        }
        var name = reference.GetString()!.Split('/').Last();
        return document.GetProperty("components").GetProperty("schemas").GetProperty(name);
    }
}
