// The shape portman's dashboards must have, built from Grafana's published types
// (@grafana/schema). typecheck.sh assigns a dashboard's JSON to PortmanDashboard.
//
// Why not plain `Dashboard` from @grafana/schema:
// - its string enums (ThresholdsMode, FieldColorModeId, MappingType...) are nominal in
//   TypeScript, so even a valid dashboard's "absolute" fails to type as ThresholdsMode; Json<T>
//   below turns every enum into the union of its values, as they appear in JSON;
// - a panel's options, field config `custom` and targets are `Record<string, unknown>` there, so
//   a misspelt option or a wrong option value passes; here each panel type carries its plugin's
//   Options and FieldConfig, and targets are Prometheus queries.
import type * as S from '@grafana/schema';
import type * as BarGauge from '@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen';
import type * as Stat from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type * as StateTimeline from '@grafana/schema/dist/esm/raw/composable/statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen';
import type * as Table from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type * as TimeSeries from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';

// JSON's view of a type: each enum becomes the union of its values ("absolute", 1); `any` stays.
export type Json<T> = 0 extends 1 & T
  ? T
  : T extends string
    ? string extends T
      ? string
      : `${T}`
    : T extends number | boolean | null | undefined
      ? T
      : T extends readonly (infer U)[]
        ? Json<U>[]
        : T extends object
          ? { [K in keyof T]: Json<T[K]> }
          : T;

// A Prometheus query as Grafana saves it. The Prometheus data source's query type is not in
// @grafana/schema, so its fields are listed here on top of the common DataQuery.
export interface PrometheusQuery extends S.DataQuery {
  expr: string;
  legendFormat?: string;
  format?: 'time_series' | 'table' | 'heatmap';
  instant?: boolean;
  range?: boolean;
  editorMode?: 'code' | 'builder';
  exemplar?: boolean;
  interval?: string;
  intervalFactor?: number;
}

// The transformations portman's dashboards use, with their options (from @grafana/data, which
// is not a types-only package).
export type Transformation =
  | { id: 'merge'; options: Record<string, never>; disabled?: boolean }
  | {
      id: 'organize';
      options: {
        excludeByName?: Record<string, boolean>;
        indexByName?: Record<string, number>;
        renameByName?: Record<string, string>;
        includeByName?: Record<string, boolean>;
      };
      disabled?: boolean;
    }
  | {
      id: 'convertFieldType';
      options: {
        conversions: Array<{
          targetField?: string;
          destinationType?: 'number' | 'string' | 'boolean' | 'time' | 'enum' | 'other';
          dateFormat?: string;
        }>;
        fields?: Record<string, never>;
      };
      disabled?: boolean;
    };

// Grafana fills in the options and field config a panel leaves out: only what is there is
// checked, strictly (no unknown keys, values of the right type and enum).
type FieldConfigOf<F> = Omit<S.FieldConfig, 'custom'> & { custom?: Partial<F> };
type FieldConfigSourceOf<F> = Omit<S.FieldConfigSource, 'defaults'> & {
  defaults: FieldConfigOf<F>;
};
type PanelOf<T extends string, O, F> = Omit<
  S.Panel,
  'type' | 'options' | 'fieldConfig' | 'targets' | 'transformations'
> & {
  type: T;
  options?: Partial<O>;
  fieldConfig?: FieldConfigSourceOf<F>;
  targets?: PrometheusQuery[];
  transformations?: Transformation[];
};

export type PortmanPanel =
  | PanelOf<'stat', Stat.Options, Record<string, never>>
  | PanelOf<'table', Table.Options, Table.FieldConfig>
  | PanelOf<'timeseries', TimeSeries.Options, TimeSeries.FieldConfig>
  | PanelOf<'state-timeline', StateTimeline.Options, StateTimeline.FieldConfig>
  | PanelOf<'bargauge', BarGauge.Options, Record<string, never>>;

export type PortmanRow = Omit<S.RowPanel, 'panels'> & { panels: PortmanPanel[] };

export type PortmanDashboard = Json<
  Omit<S.Dashboard, 'panels'> & { panels?: Array<PortmanPanel | PortmanRow> }
>;
