using UserDataApi.Auth;
using UserDataApi.Hosting;
using UserDataApi.IdentityProviders;
using UserDataApi.Intents;
using UserDataApi.Persistence;
using UserDataApi.UserData;

var builder = WebApplication.CreateBuilder(args);
builder.AddSocketTransport();
builder.AddRequestLimits();
builder.AddCrossOrigin();
builder.AddStructuredLogs();
builder.AddTelemetry();
builder.AddPersistence();
builder.AddKeyRing();
builder.AddTokenAuthentication();
builder.AddIdentityProviderCatalog();
builder.AddUserData();
builder.AddIntents();
builder.AddHealthEndpoints();
builder.AddGracefulShutdown();
builder.AddApiDocumentation();

var app = builder.Build();
if (app.FindConfigurationError() is { } settingError)
{
    Console.Error.WriteLine($"Configuration error: {settingError}");
    return 1;
}
app.UseSecurityHeaders();
app.UseJsonErrorAnswers();
app.UseCrossOrigin();
app.UseApiDocumentation();
app.MapHealthEndpoints();
app.MapUserData();
app.MapIntents();

if (!await app.MigrateDatabaseIfConfiguredAsync())
{
    return 1;
}
await app.RunAsync();
return 0;

/// <summary>The server's entry point, visible to the integration tests.</summary>
public partial class Program;
