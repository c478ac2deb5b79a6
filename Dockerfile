# Build: restore and publish in the SDK image; run: the slim ASP.NET runtime image as a non-root user.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /source
COPY Directory.Build.props Directory.Packages.props ./
COPY src/UserDataApi/UserDataApi.csproj src/UserDataApi/
RUN dotnet restore src/UserDataApi/UserDataApi.csproj
COPY src/ src/
RUN dotnet publish src/UserDataApi/UserDataApi.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app .
ENV ASPNETCORE_URLS=http://+:8080
EXPOSE 8080
USER $APP_UID
ENTRYPOINT ["dotnet", "UserDataApi.dll"]
