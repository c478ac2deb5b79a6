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
    public async Task With_swagger_disabled_neither_the_ui_nor_the_document_is_served()
    {
        await using var api = await new ApiFactory(fixture.Authority, await TestPostgres.CreateDatabaseAsync(),
            new Dictionary<string, string?> { ["Swagger:Enabled"] = "false" }).StartedAsync();
        using var client = api.CreateClient();

        foreach (var path in new[] { "/swagger/index.html", "/swagger/v1/swagger.json" })
        {
            using var response = await client.GetAsync(path);
            Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        }
    }

    [Fact]
    public async Task OpenApi_document_has_the_bearer_scheme()
    {
        var document = await ReadDocumentAsync();

        var bearer = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer");
        Assert.Equal("http", bearer.GetProperty("type").GetString());
        Assert.Equal("bearer", bearer.GetProperty("scheme").GetString());
        Assert.True(document.GetProperty("security")[0].TryGetProperty("Bearer", out _));
    }

    [Theory]
    [InlineData("set", new[] { "identity_provider", "value_key", "value_data", "access_scope", "request_id" }, new[] { "result" }, "| -8 |")]
    [InlineData("get", new[] { "identity_provider", "value_keys", "request_id" }, new[] { "result", "values" }, "| -7 |")]
    [InlineData("list-get", new[] { "identity_provider", "request_id" }, new[] { "result", "keys_private", "keys_public" }, "| 1 |")]
    [InlineData("shared-list-get", new[] { "identity_provider", "search_id", "page_size", "request_id" }, new[] { "result", "keys_shared", "next_search_id" }, "| -5 |")]
    [InlineData("delete", new[] { "identity_provider", "value_keys", "request_id" }, new[] { "result" }, "| -7 |")]
    public async Task OpenApi_document_describes_each_endpoint_with_schemas_examples_and_result_codes(
        string endpoint, string[] requestFields, string[] answerFields, string resultRow)
    {
        var document = await ReadDocumentAsync();

        var operation = document.GetProperty("paths").GetProperty($"/user-data/by-idp/{endpoint}").GetProperty("post");
        var description = operation.GetProperty("description").GetString()!;
        Assert.Contains(resultRow, description);
        Assert.Contains("| -1 |", description);
        var request = Resolve(document, operation.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        Assert.All(requestFields, field => Assert.True(request.GetProperty("properties").TryGetProperty(field, out _), field));
        Assert.Equal("telegram", request.GetProperty("properties").GetProperty("identity_provider").GetProperty("example").GetString());
        var answer = Resolve(document, operation.GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        Assert.All(answerFields, field => Assert.True(answer.GetProperty("properties").TryGetProperty(field, out _), field));
    }

    [Fact]
    public async Task OpenApi_document_describes_the_rest_gateway_in_protojson_and_says_where_the_rpc_transports_are()
    {
        var document = await ReadDocumentAsync();

        var retrieve = document.GetProperty("paths").GetProperty("/v2/idp_intents/{idpIntentId}").GetProperty("post");
        var request = Resolve(document, retrieve.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        Assert.Equal(["idpIntentId", "idpIntentToken"], PropertyNames(request));
        var answer = Resolve(document, retrieve.GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        Assert.Equal(["details", "idpInformation", "userId", "addHumanUser", "updateHumanUser", "createUser"], PropertyNames(answer));
        var refused = Resolve(document, retrieve.GetProperty("responses").GetProperty("403").GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        Assert.Equal(["code", "message", "details"], PropertyNames(refused));

        // As protojson writes them: 64-bit integers as strings, timestamps as RFC 3339, enums by their proto names,
        // Struct as any object, and nothing of the generated classes' own surface (HasX, XCase).
        var schemas = document.GetProperty("components").GetProperty("schemas");
        var details = schemas.GetProperty("Details").GetProperty("properties");
        Assert.Equal(("string", "int64"), TypeOf(details.GetProperty("sequence")));
        Assert.Equal(("string", "date-time"), TypeOf(details.GetProperty("changeDate")));
        Assert.Equal(("string", "int64"), TypeOf(schemas.GetProperty("ListDetails").GetProperty("properties").GetProperty("totalResult")));
        Assert.Contains("GENDER_FEMALE", schemas.GetProperty("Gender").GetProperty("enum").EnumerateArray().Select(value => value.GetString()));
        Assert.Equal("object", schemas.GetProperty("IDPInformation").GetProperty("properties").GetProperty("rawInformation").GetProperty("type").GetString());
        Assert.Equal(["email", "sendCode", "returnCode", "isVerified"], PropertyNames(schemas.GetProperty("SetHumanEmail")));
        Assert.DoesNotContain(schemas.EnumerateObject().SelectMany(schema => PropertyNames(schema.Value)),
            name => name.StartsWith("has", StringComparison.Ordinal) && char.IsUpper(name[3]) || name.EndsWith("Case", StringComparison.Ordinal));
        Assert.False(schemas.TryGetProperty("ContentOneofCase", out _));

        var tags = document.GetProperty("tags").EnumerateArray().ToDictionary(tag => tag.GetProperty("name").GetString()!);
        foreach (var tag in new[] { "Identity-provider intents", "Identity-provider links" })
        {
            var description = tags[tag].GetProperty("description").GetString()!;
            Assert.Contains("/zitadel.user.v2.UserService/{Method}", description);
            Assert.Contains("Grpc:Url", description);
            Assert.Contains("gRPC-Web and Connect", description);
        }
    }

    private static string[] PropertyNames(JsonElement schema) =>
        schema.TryGetProperty("properties", out var properties) ? properties.EnumerateObject().Select(property => property.Name).ToArray() : [];

    private static (string? Type, string? Format) TypeOf(JsonElement schema) =>
        (schema.GetProperty("type").GetString(), schema.TryGetProperty("format", out var format) ? format.GetString() : null);

    private async Task<JsonElement> ReadDocumentAsync() =>
        JsonDocument.Parse(await fixture.Api.CreateClient().GetStringAsync("/swagger/v1/swagger.json")).RootElement;

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
