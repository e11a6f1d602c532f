package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/template"

	"github.com/alecthomas/kingpin/v2"
)

// completionShells are the shells `gpuprice completion` writes scripts for.
var completionShells = []string{"bash", "zsh", "fish"}

// fishCompletionTemplate is the fish counterpart of kingpin's bash and zsh
// scripts (kingpin ships none for fish): like them, it asks the binary
// itself for the candidates through kingpin's hidden --completion-bash
// flag, with the words typed so far, so commands, flags and enum values
// complete the same in every shell.
const fishCompletionTemplate = `# fish completion for {{.App.Name}}: {{.App.Name}} completion fish | source
# (or save it as ~/.config/fish/completions/{{.App.Name}}.fish)
function __{{.App.Name}}_complete
    set -l words (commandline -opc) (commandline -ct)
    set -e words[1]
    {{.App.Name}} --completion-bash $words
end
complete -c {{.App.Name}} -f -a '(__{{.App.Name}}_complete)'
`

// completing tells whether args ask for completion candidates (the
// scripts call `gpuprice --completion-bash WORD...`). Then serve must not
// be the default command: kingpin would complete serve's flags for a
// partial command name ("gpuprice col") instead of the command names.
func completing(args []string) bool {
	return slices.Contains(args, "--completion-bash")
}

// writeCompletion writes app's completion script for shell. The bash and
// zsh scripts are kingpin's own templates.
func writeCompletion(app *kingpin.Application, shell string, out io.Writer) error {
	var tmpl string
	switch shell {
	case "bash":
		tmpl = kingpin.BashCompletionTemplate
	case "zsh":
		tmpl = kingpin.ZshCompletionTemplate
	case "fish":
		tmpl = fishCompletionTemplate
	default:
		return fmt.Errorf("no completion for shell %q: supported are %s", shell, strings.Join(completionShells, ", "))
	}
	// The templates need only the application's name; rendering them
	// here rather than through kingpin's --completion-script-* flags lets
	// the script go to out instead of os.Stdout followed by os.Exit.
	t, err := template.New(shell).Parse(tmpl)
	if err != nil {
		return err
	}
	return t.Execute(out, map[string]any{"App": map[string]string{"Name": app.Name}})
}
