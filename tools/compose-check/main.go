// compose-check loads a Compose file the way Docker Compose v2 does (compose-go, the loader Compose itself uses:
// the Compose Specification's schema, interpolation from the environment and .env, profiles, depends_on and
// reference checks) without a container engine, and prints what Compose would run. CI runs it on
// docker-compose.yml (.ci/run, test/unit/compose-check.test.ts).
//
//	compose-check [-f FILE]... [--profile NAME]... [--env-file FILE]...
//
// Exit status 0 and a JSON summary on stdout when the file loads; 1 and the loader's error on stderr otherwise.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

type serviceSummary struct {
	Image     string   `json:"image,omitempty"`
	Build     string   `json:"build,omitempty"`
	Command   []string `json:"command,omitempty"`
	Profiles  []string `json:"profiles,omitempty"`
	DependsOn []string `json:"dependsOn,omitempty"`
	Ports     []string `json:"ports,omitempty"`
	// Environment after interpolation: what the container would get.
	Environment map[string]string `json:"environment,omitempty"`
	// Build arguments after interpolation (the shared Dockerfile's SERVICE).
	BuildArgs map[string]string `json:"buildArgs,omitempty"`
}

type summary struct {
	Name     string                    `json:"name"`
	Services map[string]serviceSummary `json:"services"`
	Disabled []string                  `json:"disabled"`
	Volumes  []string                  `json:"volumes"`
}

func main() {
	var files, profiles, envFiles list
	flag.Var(&files, "f", "Compose file (repeatable; default: compose.yaml / docker-compose.yml of the working directory)")
	flag.Var(&profiles, "profile", "profile to enable (repeatable; default: $COMPOSE_PROFILES)")
	flag.Var(&envFiles, "env-file", "environment file (repeatable; default: .env beside the Compose file)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "compose-check: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	project, err := load(files, profiles, envFiles)
	if err != nil {
		fmt.Fprintf(os.Stderr, "compose-check: %v\n", err)
		os.Exit(1)
	}
	out, err := json.MarshalIndent(summarize(project), "", "  ")
	if err != nil {
		fmt.Fprintf(os.Stderr, "compose-check: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

// load uses the same options, in the same order, as `docker compose config` (docker/compose's toProjectOptions).
func load(files, profiles, envFiles []string) (*types.Project, error) {
	options, err := cli.NewProjectOptions(files,
		cli.WithWorkingDirectory(""),
		cli.WithOsEnv,
		cli.WithConfigFileEnv,
		cli.WithDefaultConfigPath,
		cli.WithEnvFiles(envFiles...),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(profiles...),
	)
	if err != nil {
		return nil, err
	}
	return options.LoadProject(context.Background())
}

func summarize(p *types.Project) summary {
	s := summary{Name: p.Name, Services: map[string]serviceSummary{}, Disabled: append([]string{}, p.DisabledServiceNames()...), Volumes: []string{}}
	for name, svc := range p.Services {
		sum := serviceSummary{Image: svc.Image, Command: svc.Command, Profiles: svc.Profiles, Environment: map[string]string{}}
		if svc.Build != nil {
			sum.Build = svc.Build.Dockerfile
			for key, value := range svc.Build.Args {
				if value != nil {
					if sum.BuildArgs == nil {
						sum.BuildArgs = map[string]string{}
					}
					sum.BuildArgs[key] = *value
				}
			}
		}
		for dep := range svc.DependsOn {
			sum.DependsOn = append(sum.DependsOn, dep)
		}
		sort.Strings(sum.DependsOn)
		for _, port := range svc.Ports {
			sum.Ports = append(sum.Ports, fmt.Sprintf("%s:%s:%d", port.HostIP, port.Published, port.Target))
		}
		for key, value := range svc.Environment {
			if value != nil {
				sum.Environment[key] = *value
			}
		}
		s.Services[name] = sum
	}
	for name := range p.Volumes {
		s.Volumes = append(s.Volumes, name)
	}
	sort.Strings(s.Disabled)
	sort.Strings(s.Volumes)
	return s
}
