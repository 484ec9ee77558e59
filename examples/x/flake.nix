{
  description = "x: an example monorepo of services, built into shared-layer images by planner";

  # No inputs: every package is built from this repo and the host's Debian packages (see
  # nix/lib.nix), so `nix build .#quotes` works offline. With nixpkgs the same packages
  # would come from `nixpkgs.legacyPackages.${system}` (pkgs.cacert, pkgs.tzdata, ...).
  outputs = { self }:
    let
      system = "x86_64-linux";
    in
    {
      # Same attributes as default.nix (services and shared runtime packages), and the
      # same store paths: sources go through builtins.path, not the flake's source tree.
      packages.${system} = import ./default.nix { inherit system; };
    };
}
