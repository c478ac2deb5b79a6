using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace UserDataApi.Hosting;

/// <summary>Whether <c>/swagger</c> is served (configuration section <c>Swagger</c>).</summary>
public sealed class SwaggerOptions
{
    public const string Section = "Swagger";

    public bool Enabled { get; set; } = true;
}

/// <summary>The OpenAPI document and Swagger UI at <c>/swagger</c>, unless <c>Swagger:Enabled</c> is false (SPEC §6).</summary>
public static class ApiDocumentation
{
    private const string BearerScheme = "Bearer";

    /// <summary>Where Swashbuckle serves the document (<c>/swagger/v1/swagger.json</c>) and the UI: its default paths.</summary>
    private const string DocumentationPath = "/swagger";

    public static WebApplicationBuilder AddApiDocumentation(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SwaggerOptions>().Bind(builder.Configuration.GetSection(SwaggerOptions.Section)).ValidateOnStart();
        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen(swagger =>
        {
            swagger.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "UserDataApi",
                Version = "v1",
                Description = "User data by identity provider (HyperID wire format) and identity-provider intents (ZITADEL v2 wire format). "
                              + "Authorize with a bearer token from the configured authority.",
            });
            swagger.AddSecurityDefinition(BearerScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "An access token issued by Auth:Authority (in Development: `dotnet user-jwts create ...`).",
            });
            swagger.AddSecurityRequirement(document => new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [],
            });
            swagger.OperationFilter<JsonRequestBodyFilter>();
            var xml = Path.Combine(AppContext.BaseDirectory, "UserDataApi.xml");
            if (File.Exists(xml))
            {
                swagger.IncludeXmlComments(xml);
            }
        });
        ProtoSchemas.Decorate(builder.Services);
        return builder;
    }

    public static WebApplication UseApiDocumentation(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<IOptions<SwaggerOptions>>().Value.Enabled)
        {
            return app;
        }
        // Only on its own paths: Swashbuckle's middleware would otherwise build its document generator for every call.
        app.UseWhen(http => http.Request.Path.StartsWithSegments(DocumentationPath), documentation =>
        {
            documentation.UseSwagger();
            documentation.UseSwaggerUI(ui => ui.DocumentTitle = "UserDataApi");
        });
        return app;
    }

    /// <summary>
    /// Documents a JSON request body that the handler reads itself. (<c>Accepts&lt;T&gt;</c> would also make
    /// routing refuse other content types with 415, where the contract wants its own answer.)
    /// </summary>
    public static RouteHandlerBuilder WithJsonRequestBody<TRequest>(this RouteHandlerBuilder endpoint) =>
        endpoint.WithMetadata(new DocumentedBody(typeof(TRequest)));

    private sealed record DocumentedBody(Type Type);

    private sealed class JsonRequestBodyFilter : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            if (context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<DocumentedBody>().FirstOrDefault() is not { } body)
            {
                return;
            }
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = context.SchemaGenerator.GenerateSchema(body.Type, context.SchemaRepository) },
                },
            };
        }
    }
}
