using Microsoft.Extensions.Options;

namespace UserDataApi.Hosting;

/// <summary>
/// Validates every options class registered with <c>ValidateOnStart</c> before anything runs (migrations
/// included), so that a missing or invalid setting stops start-up with one clear line naming its key (SPEC §5).
/// </summary>
public static class ConfigurationCheck
{
    /// <summary>The first problem found, naming the setting, or null when the settings can run.</summary>
    public static string? FindConfigurationError(this WebApplication app)
    {
        try
        {
            app.Services.GetRequiredService<IStartupValidator>().Validate();
            return null;
        }
        catch (OptionsValidationException exception)
        {
            return exception.Failures.First();
        }
        catch (AggregateException exception) when (exception.InnerExceptions.FirstOrDefault() is OptionsValidationException first)
        {
            return first.Failures.First();
        }
        catch (InvalidOperationException exception)
        {
            // The binder's own: "Failed to convert configuration value 'ten' at 'Intents:Providers:slow:TimeoutSeconds' to type 'System.Int32'."
            return exception.Message;
        }
    }
}
